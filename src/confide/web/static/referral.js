// A resource card (message of kind "referral"): built with textContent only, never innerHTML.
// The body is a JSON document written by the server; a body that does not parse is shown as text.

export function telHref(phone) {
  const digits = String(phone || "").replace(/[^0-9+]/g, "").replace(/(?!^)\+/g, "");
  return digits ? `tel:${digits}` : "";
}

export function parseCard(body) {
  try {
    const card = JSON.parse(body);
    return card && typeof card === "object" ? card : null;
  } catch {
    return null;
  }
}

export function referralCard(S, body) {
  const card = parseCard(body);
  const box = document.createElement("div");
  box.className = "referral-card";
  if (!card) {
    box.textContent = body;
    return box;
  }
  const type = document.createElement("p");
  type.className = "referral-type";
  type.textContent = S[`referral.type.${card.type}`] || String(card.type || "");
  const name = document.createElement("p");
  name.className = "referral-name";
  name.textContent = String(card.name || "");
  box.append(type, name);
  const place = [card.address, card.postcode].filter(Boolean).join(", ");
  if (place) {
    const p = document.createElement("p");
    p.textContent = place;
    box.append(p);
  }
  if (card.hours) {
    const p = document.createElement("p");
    p.textContent = `${S["referral.hours"]} ${card.hours}`;
    box.append(p);
  }
  const href = telHref(card.phone);
  if (href) {
    const a = document.createElement("a");
    a.href = href;
    a.className = "referral-call";
    a.textContent = `${S["referral.call"]} ${card.phone}`;
    box.append(a);
  }
  if (card.email && /^[^@\s]+@[^@\s]+$/.test(card.email)) {
    const a = document.createElement("a");
    a.href = `mailto:${card.email}`;
    a.className = "referral-mail";
    a.textContent = `${S["referral.mail"]} ${card.email}`;
    box.append(a);
  }
  return box;
}
