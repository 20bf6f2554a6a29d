// A complaint-guidance card (message of kind "guidance"): built with textContent only, never
// innerHTML. The body is a JSON document written by the server (replies/guidance.py), already
// in the reader's language; a body that does not parse is shown as text.
import { parseCard, telHref } from "./referral.js";

const text = (value) => (typeof value === "string" ? value : "");
const list = (value) => (Array.isArray(value) ? value : []);

function element(tag, className, content) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (content !== undefined) el.textContent = content;
  return el;
}

function phoneLink(S, phone) {
  const number = text(phone && phone.number);
  const href = telHref(number);
  if (!href) return null;
  const a = element("a", phone.sms ? "guidance-call guidance-sms" : "guidance-call");
  a.href = phone.sms ? href.replace(/^tel:/, "sms:") : href;
  const action = element("b", "", `${S[phone.sms ? "guidance.sms" : "guidance.call"]} ${number}`);
  a.append(action);
  const label = text(phone.label);
  if (label) a.append(" ", element("span", "guidance-phone-label", label));
  return a;
}

export function guidanceCard(S, body) {
  const card = parseCard(body);
  const box = element("section", "guidance-card");
  if (!card || !text(card.title)) {
    box.textContent = body;
    return box;
  }
  box.append(element("p", "guidance-kind", S["guidance.label"]));
  box.append(element("h3", "guidance-title", text(card.title)));
  for (const section of list(card.sections)) {
    const heading = text(section && section.heading);
    if (heading) box.append(element("h4", "guidance-heading", heading));
    const items = list(section && section.items).map(text).filter(Boolean);
    if (!items.length) continue;
    const ul = element("ul", "guidance-items");
    for (const item of items) ul.append(element("li", "", item));
    box.append(ul);
  }
  const links = list(card.phones).map((phone) => phoneLink(S, phone)).filter(Boolean);
  if (links.length) {
    const ul = element("ul", "guidance-phones");
    for (const link of links) {
      const li = element("li");
      li.append(link);
      ul.append(li);
    }
    box.append(ul);
  }
  return box;
}
