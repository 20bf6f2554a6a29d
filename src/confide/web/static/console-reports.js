// Console feature: signalements. A "Signalement" link in each chat's tools opens the form in
// a new tab; a small panel lists the conversation's signalements with links to their export.
// Shown only when the `opened` frame carries `signalements` (the user may write one).
// DOM is built with textContent only; every text comes from ctx.S.
import { timeOf } from "./socket.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function install(ctx) {
  const S = ctx.S;

  function render(chat) {
    const state = chat.reports;
    const items = [...state.items.values()].sort((a, b) => a.id - b.id);
    state.list.replaceChildren();
    for (const item of items) {
      const li = el("li", "signalement-item");
      li.dataset.signalementId = String(item.id);
      const link = el("a", "signalement-export", item.unit);
      link.href = `/staff/signalements/${item.id}?lang=${ctx.lang}`;
      link.target = "_blank";
      link.rel = "noopener";
      const urgency = el("span", `tag urgency urgency-${item.urgency}`, S[`signalement.urgency.${item.urgency}`] || item.urgency);
      const at = el("span", "signalement-at", timeOf(item.at, ctx.lang));
      li.append(link, " ", urgency, " ", at);
      state.list.append(li);
    }
    state.panel.hidden = items.length === 0;
    state.heading.textContent = items.length ? `${S["signalement.list"]} (${items.length})` : S["signalement.list"];
  }

  ctx.chatHooks.push((chat) => {
    const id = chat.summary.conversation_id;
    const link = el("a", "signalement-link", S["signalement.open"]);
    link.href = `/staff/conversations/${id}/signalements/new?lang=${ctx.lang}`;
    link.target = "_blank";
    link.rel = "noopener";
    link.hidden = true;
    ctx.addTool(chat, link, { rare: true });
    const panel = el("section", "signalements-panel");
    panel.hidden = true;
    const heading = el("h3", "signalements-title", S["signalement.list"]);
    heading.id = `signalements-${id}`;
    panel.setAttribute("aria-labelledby", heading.id);
    const list = el("ul", "signalements");
    panel.append(heading, list);
    chat.el.querySelector(".chat-panels").append(panel);
    chat.reports = { link, panel, heading, list, items: new Map(), allowed: false };
  });

  ctx.openedHooks.push((chat, frame) => {
    if (!chat.reports) return;
    const allowed = Array.isArray(frame.signalements);
    chat.reports.allowed = allowed;
    chat.reports.link.hidden = !allowed;
    chat.reports.items.clear();
    if (allowed) for (const item of frame.signalements) chat.reports.items.set(item.id, item);
    render(chat);
  });

  ctx.handlers.set("signalement_saved", (frame) => {
    const chat = ctx.chats.get(frame.conversation_id);
    if (!chat || !chat.reports || !chat.reports.allowed || !frame.signalement) return;
    chat.reports.items.set(frame.signalement.id, frame.signalement);
    render(chat);
  });
}
