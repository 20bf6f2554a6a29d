// Console feature: canned replies and complaint-guidance cards. See the extension points
// (`ctx`) in console.js.
//
// Replies: the "Replies" button, Alt+R, or "/" typed as the first character of the composer
// open a picker; choosing a reply INSERTS its text into the composer for editing — it never
// sends anything by itself. Guidance: the "Guidance" button lists the cards of the chat with a
// preview and a Send button (the server renders the card in the visitor's language).
import { guidanceCard } from "./guidance.js";

const USE = "staff:replies:use";

// Case- and accent-insensitive text for filtering ("securite" finds "Sécurité").
const fold = (value) => String(value || "").normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function install(ctx) {
  const { S } = ctx;
  let allowed = false;
  const states = new Map(); // conversation_id -> per-chat state

  function stateOf(conversationId) {
    return states.get(conversationId);
  }

  // ---- replies picker -------------------------------------------------------------------

  function matches(state) {
    const query = fold(state.filter.value).trim();
    if (!query) return state.replies;
    const inTitle = state.replies.filter((r) => fold(r.title).includes(query));
    const inBody = state.replies.filter((r) => !inTitle.includes(r) && fold(r.body).includes(query));
    return [...inTitle, ...inBody];
  }

  function renderList(state) {
    const found = state.replies ? matches(state) : [];
    state.shownReplies = found;
    state.active = found.length ? Math.min(Math.max(state.active, 0), found.length - 1) : -1;
    state.list.replaceChildren();
    found.forEach((reply, index) => {
      const li = el("li");
      const button = el("button", "reply-option");
      button.type = "button";
      button.id = `reply-${state.id}-${reply.id}`;
      button.dataset.replyId = String(reply.id);
      if (index === state.active) button.classList.add("active");
      button.setAttribute("aria-current", index === state.active ? "true" : "false");
      button.append(el("span", "reply-title", reply.title), el("span", "reply-excerpt", reply.body));
      button.addEventListener("click", () => insert(state, reply));
      li.append(button);
      state.list.append(li);
    });
    let note = "";
    if (state.replies && !state.replies.length) note = S["replies.none"];
    else if (state.replies && !found.length) note = S["replies.no_match"];
    state.empty.textContent = note;
    state.empty.hidden = !note;
    // Keep the highlighted reply visible inside the list only: scrolling the page would hide
    // it under the composer, which stays at the bottom of the screen.
    const current = state.list.querySelector(".reply-option.active");
    if (current) {
      const item = current.parentElement;
      const list = state.list;
      if (item.offsetTop < list.scrollTop) list.scrollTop = item.offsetTop;
      else if (item.offsetTop + item.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = item.offsetTop + item.offsetHeight - list.clientHeight;
      }
    }
  }

  function move(state, step) {
    if (!state.shownReplies || !state.shownReplies.length) return;
    const count = state.shownReplies.length;
    state.active = (state.active + step + count) % count;
    renderList(state);
  }

  function openPicker(state, { slash }) {
    state.slash = slash;
    state.panel.hidden = false;
    state.repliesButton.setAttribute("aria-expanded", "true");
    state.active = 0;
    if (!slash) {
      state.filter.value = "";
      state.filter.focus();
    }
    renderList(state);
    // The panel sits above the conversation: bring it into view (mid-screen, clear of the
    // top bar and of the composer).
    state.panel.scrollIntoView({ block: "center" });
    // Fresh each time: supervisors may have changed them since.
    ctx.send({ type: "replies", conversation_id: state.id });
  }

  function closePicker(state, { focusComposer } = { focusComposer: false }) {
    state.panel.hidden = true;
    state.slash = false;
    state.repliesButton.setAttribute("aria-expanded", "false");
    if (focusComposer) state.textarea.focus();
  }

  function insert(state, reply) {
    const textarea = state.textarea;
    if (state.slash && textarea.value.startsWith("/")) {
      // Replace "/what was typed" (the first line) with the reply's text.
      const end = textarea.value.indexOf("\n");
      const rest = end === -1 ? "" : textarea.value.slice(end);
      textarea.value = reply.body + rest;
      textarea.setSelectionRange(reply.body.length, reply.body.length);
    } else {
      const start = textarea.selectionStart ?? textarea.value.length;
      const end = textarea.selectionEnd ?? start;
      textarea.setRangeText(reply.body, start, end, "end");
    }
    state.dismissed = false;
    closePicker(state, { focusComposer: true });
    const last = state.chat.el.querySelector(".messages").lastElementChild;
    if (last) last.scrollIntoView({ block: "end" });
  }

  function onComposerInput(state) {
    const value = state.textarea.value;
    if (!value.startsWith("/")) {
      state.dismissed = false;
      if (state.slash) closePicker(state);
      return;
    }
    if (state.dismissed) return;
    const query = value.slice(1).split("\n", 1)[0];
    if (state.panel.hidden || !state.slash) {
      state.filter.value = query;
      openPicker(state, { slash: true });
    } else {
      state.filter.value = query;
      state.active = 0;
      renderList(state);
    }
  }

  // Keys while the picker is open, from the composer ("/" mode) or the filter box.
  function onPickerKey(state, event) {
    if (state.panel.hidden) return false;
    if (event.key === "ArrowDown") move(state, 1);
    else if (event.key === "ArrowUp") move(state, -1);
    else if (event.key === "Escape") {
      if (state.slash) state.dismissed = true;
      closePicker(state, { focusComposer: true });
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      // Never let Enter send "/..." to the visitor while choosing: insert, or do nothing.
      const reply = state.shownReplies && state.shownReplies[state.active];
      if (reply) insert(state, reply);
    } else return false;
    event.preventDefault();
    event.stopImmediatePropagation();
    return true;
  }

  function showReplies(frame) {
    const state = stateOf(frame.conversation_id);
    if (!state) return;
    state.replies = Array.isArray(frame.replies) ? frame.replies : [];
    if (!state.panel.hidden) renderList(state);
  }

  // ---- guidance cards ---------------------------------------------------------------------

  function toggleGuidance(state) {
    const open = state.guidance.hidden;
    state.guidance.hidden = !open;
    state.guidanceButton.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      state.guidanceList.replaceChildren();
      ctx.send({ type: "guidance_list", conversation_id: state.id });
    }
  }

  function showGuidance(frame) {
    const state = stateOf(frame.conversation_id);
    if (!state) return;
    const list = state.guidanceList;
    list.replaceChildren();
    const cards = Array.isArray(frame.cards) ? frame.cards : [];
    for (const card of cards) {
      const li = el("li", "guidance-choice");
      const details = el("details");
      details.append(el("summary", "", card.title));
      details.append(guidanceCard(S, JSON.stringify(card)));
      const send = el("button", "primary guidance-send", S["guidance.send"]);
      send.type = "button";
      send.dataset.cardId = card.id;
      send.addEventListener("click", () => {
        ctx.send({ type: "send_guidance", conversation_id: state.id, card_id: card.id, client_id: ctx.newClientId() });
        toggleGuidance(state);
        state.textarea.focus();
      });
      li.append(details, send);
      list.append(li);
    }
    if (!cards.length) list.append(el("li", "empty", S["guidance.none"]));
  }

  // ---- per chat ---------------------------------------------------------------------------

  function setAvailable(state, on) {
    state.repliesButton.hidden = !on;
    state.guidanceButton.hidden = !on;
    if (!on) {
      closePicker(state);
      state.guidance.hidden = true;
      state.guidanceButton.setAttribute("aria-expanded", "false");
    }
  }

  function setUp(chat) {
    const id = chat.summary.conversation_id;
    const panels = chat.el.querySelector(".chat-panels");
    const textarea = chat.el.querySelector(".composer textarea");
    if (!panels || !textarea) return;

    const repliesButton = el("button", "secondary replies-open", S["replies.open"]);
    repliesButton.type = "button";
    repliesButton.title = S["replies.hint"];
    repliesButton.setAttribute("aria-keyshortcuts", "Alt+R");
    repliesButton.setAttribute("aria-expanded", "false");
    repliesButton.setAttribute("aria-controls", `replies-${id}`);
    const guidanceButton = el("button", "secondary guidance-open", S["guidance.open"]);
    guidanceButton.type = "button";
    guidanceButton.setAttribute("aria-expanded", "false");
    guidanceButton.setAttribute("aria-controls", `guidance-${id}`);
    ctx.addTool(chat, repliesButton);
    ctx.addTool(chat, guidanceButton);

    const panel = el("section", "replies-panel");
    panel.id = `replies-${id}`;
    panel.hidden = true;
    panel.setAttribute("aria-label", S["replies.title"]);
    const head = el("div", "replies-head");
    const label = el("label", "replies-filter-label", S["replies.filter"]);
    label.htmlFor = `replies-filter-${id}`;
    const filter = el("input", "replies-filter");
    filter.type = "search";
    filter.id = `replies-filter-${id}`;
    filter.autocomplete = "off";
    filter.setAttribute("aria-controls", `replies-list-${id}`);
    const close = el("button", "secondary replies-close", S["replies.close"]);
    close.type = "button";
    head.append(label, filter, close);
    const list = el("ul", "replies-list");
    list.id = `replies-list-${id}`;
    list.setAttribute("aria-label", S["replies.title"]);
    const empty = el("p", "replies-empty");
    empty.setAttribute("role", "status");
    empty.hidden = true;
    const hint = el("p", "replies-hint", S["replies.hint"]);
    panel.append(head, list, empty, hint);

    const guidance = el("section", "guidance-panel");
    guidance.id = `guidance-${id}`;
    guidance.hidden = true;
    guidance.setAttribute("aria-label", S["guidance.title"]);
    const guidanceList = el("ul", "guidance-choices");
    guidance.append(guidanceList);
    panels.append(panel, guidance);

    const state = {
      id, chat, textarea, panel, filter, list, empty, repliesButton, guidanceButton, guidance, guidanceList,
      replies: null, shownReplies: [], active: 0, slash: false, dismissed: false,
    };
    states.set(id, state);
    setAvailable(state, allowed);

    repliesButton.addEventListener("click", () => {
      if (panel.hidden || state.slash) openPicker(state, { slash: false });
      else closePicker(state, { focusComposer: true });
    });
    close.addEventListener("click", () => closePicker(state, { focusComposer: true }));
    guidanceButton.addEventListener("click", () => toggleGuidance(state));
    filter.addEventListener("input", () => {
      state.active = 0;
      renderList(state);
    });
    filter.addEventListener("keydown", (event) => onPickerKey(state, event));
    // Registered before console.js's own keydown handler (chat hooks run first), so Enter
    // while choosing a reply is taken here and never submits the composer.
    textarea.addEventListener("keydown", (event) => {
      if (state.slash) onPickerKey(state, event);
    });
    textarea.addEventListener("input", () => {
      if (allowed && !chat.ended) onComposerInput(state);
    });
    chat.el.addEventListener("keydown", (event) => {
      if (allowed && !chat.ended && event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyR") {
        event.preventDefault();
        openPicker(state, { slash: false });
      }
    });
  }

  ctx.chatHooks.push(setUp);
  ctx.helloHooks.push((frame) => {
    const permissions = (frame.staff && frame.staff.permissions) || [];
    allowed = permissions.includes(USE);
    for (const state of states.values()) setAvailable(state, allowed && !state.chat.ended);
  });
  ctx.openedHooks.push((chat) => {
    const state = stateOf(chat.summary.conversation_id);
    if (state) setAvailable(state, allowed && !chat.ended);
  });
  ctx.endHooks.push((chat) => {
    const state = stateOf(chat.summary.conversation_id);
    if (state) setAvailable(state, false);
  });
  ctx.handlers.set("replies", showReplies);
  ctx.handlers.set("guidance_list", showGuidance);
}
