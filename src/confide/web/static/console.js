// Staff console: live queue, several conversations as tabs, messages with acks.
// Features (canned replies, case work, hand-offs, reports) are modules that `install(ctx)`
// into the extension points of `ctx` below instead of growing this file.
import { LiveSocket, newClientId, loadStrings, format, timeOf } from "./socket.js";
import { referralCard } from "./referral.js";
import { renderCard } from "./cards.js";
import * as replies from "./console-replies.js";
import * as casework from "./console-casework.js";
import * as handoff from "./console-handoff.js";
import * as reports from "./console-reports.js";

const S = loadStrings();
const lang = document.documentElement.lang;
const $ = (id) => document.getElementById(id);
const chats = new Map(); // conversation_id -> {summary, el, lastSeq, pending, unread, ended, tab}
let active = null;
let capacity = null;
let myRole = null; // this console's staff role, from `hello`
let transferFor = null; // conversation_id the transfer dialog is open for
let takingByHand = false; // the next `opened` answers this console's own click: no alert
const requested = new Set(); // conversations this console asked to open (ctx.expectOpen)

function setConnection(name) {
  const el = $("connection");
  el.dataset.state = name;
  el.textContent = S[`state.${name}`];
}

// What feature modules get: the socket, the strings, the open chats, and hooks.
const ctx = {
  S,
  lang,
  $,
  chats,
  format,
  newClientId,
  activeId: () => active,
  select: (id) => select(id),
  send: (frame) => socket.send(frame),
  // frame type -> handler(frame), for frame types this file does not handle itself.
  handlers: new Map(),
  // Called with (chat) when a chat panel is created: add buttons with `addTool` and panels
  // to `chat.el.querySelector(".chat-panels")`.
  chatHooks: [],
  // Put a feature's control in a chat's header: the toolbar (frequent actions), the "More
  // actions" menu (`rare`: occasional ones, and links that open another page), or next to
  // the chat's title (`title`: state to see at a glance).
  addTool: (chat, node, { rare = false, title = false } = {}) => {
    const head = chat.el.querySelector(".staff-chat-head");
    if (title) {
      head.querySelector(".chat-title").append(node);
    } else if (rare) {
      node.classList.add("menu-item");
      head.querySelector(".more-menu").append(node);
    } else {
      head.querySelector(".more-actions").before(node);
    }
  },
  // Called with (chat, frame) on each `opened` frame (the frame carries the `opened_extra` fields).
  openedHooks: [],
  // Called with (frame) on each `hello` frame (with the `hello_extra` fields).
  helloHooks: [],
  // Called with (chat) when a chat ends on this console (closed, erased, transferred).
  endHooks: [],
  // Called with (chat) when a chat is shown.
  selectHooks: [],
  showError: (message) => showError(message),
  // Say that the next `opened` of this conversation answers the user's own action (no alert,
  // and it is shown at once).
  expectOpen: (id) => requested.add(id),
};

const socket = new LiveSocket({
  path: `/ws/staff?lang=${lang}`,
  onOpen: () => {},
  onFrame,
  onState: setConnection,
  onRefused: () => location.assign("/staff/login"),
});

function describe(summary) {
  const dept = summary.departement || S["dept.unknown"];
  return `${S[`channel.${summary.channel}`]} · ${S[`role.${summary.role}`]} · ${dept}`;
}

function renderQueue(items) {
  $("queue-count").textContent = String(items.length);
  const list = $("queue");
  list.replaceChildren();
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = S["staff.queue_empty"];
    list.append(li);
    return;
  }
  for (const item of items) {
    const li = document.createElement("li");
    li.className = item.alert ? "queue-item alert" : "queue-item";
    li.dataset.conversationId = item.conversation_id;
    const text = document.createElement("span");
    text.textContent = `${describe(item)} · ${format(S["staff.waiting_since"], { minutes: Math.floor(item.waiting_s / 60) })}`;
    if (item.alert) {
      const badge = document.createElement("span");
      badge.className = "tag";
      badge.textContent = S["staff.alert_badge"];
      text.append(" ", badge);
    }
    // Flags set by a colleague before the conversation came back to the queue.
    for (const flag of item.flags || []) {
      const badge = document.createElement("span");
      badge.className = `tag flag flag-${flag}`;
      badge.textContent = S[`flag.${flag}`] || flag;
      text.append(" ", badge);
    }
    if (item.flags && item.flags.length) li.classList.add("flagged");
    const take = document.createElement("button");
    take.type = "button";
    take.className = "primary take";
    take.textContent = S["staff.take"];
    take.addEventListener("click", () => {
      take.disabled = true;
      takingByHand = true;
      socket.send({ type: "take", conversation_id: item.conversation_id });
    });
    li.append(text, take);
    list.append(li);
  }
}

function ensureChat(summary) {
  let chat = chats.get(summary.conversation_id);
  if (chat) return chat;
  const el = $("chat-template").content.firstElementChild.cloneNode(true);
  el.id = `chat-${summary.conversation_id}`;
  el.hidden = true; // shown by select()
  el.dataset.conversationId = summary.conversation_id;
  el.querySelector(".meta").textContent = describe(summary);
  const disclosure = el.querySelector(".disclosure-link");
  if (disclosure) disclosure.href = `/staff/conversations/${summary.conversation_id}/disclosure?lang=${lang}`;
  const transferButton = el.querySelector(".transfer-chat");
  transferButton.textContent = S["staff.transfer"];
  transferButton.addEventListener("click", () => {
    transferFor = summary.conversation_id;
    socket.send({ type: "transfer_targets" });
  });
  const referralsButton = el.querySelector(".referrals-chat");
  if (referralsButton) {
    referralsButton.textContent = S["referral.open"];
    referralsButton.addEventListener("click", () => {
      const list = el.querySelector(".referrals");
      list.hidden = !list.hidden;
      if (!list.hidden) socket.send({ type: "referrals", conversation_id: summary.conversation_id });
    });
  }
  const tab = document.createElement("button");
  tab.type = "button";
  tab.setAttribute("role", "tab");
  tab.className = "tab";
  tab.setAttribute("aria-selected", "false");
  tab.dataset.conversationId = summary.conversation_id;
  tab.addEventListener("click", () => select(summary.conversation_id));
  chat = { summary, el, tab, lastSeq: 0, pending: [], unread: 0, ended: false, shown: new Map(), visitorRead: summary.visitor_read_seq || 0, readSent: 0 };
  chats.set(summary.conversation_id, chat);
  for (const hook of ctx.chatHooks) hook(chat);
  arrangeTools(chat);
  const form = el.querySelector(".composer");
  const textarea = form.querySelector("textarea");
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  let lastTyping = 0;
  textarea.addEventListener("input", () => {
    if (Date.now() - lastTyping > 2500) {
      lastTyping = Date.now();
      socket.send({ type: "typing", conversation_id: summary.conversation_id });
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = textarea.value;
    if (!body.trim() || chat.ended) return;
    const item = { client_id: newClientId(), body };
    chat.pending.push(item);
    const li = messageItem(chat.summary.conversation_id, "self", body, null);
    li.classList.add("pending");
    chat.shown.set(item.client_id, li);
    el.querySelector(".messages").append(li);
    textarea.value = "";
    socket.send({ type: "send", conversation_id: summary.conversation_id, client_id: item.client_id, body });
  });
  $("tabs").append(tab);
  $("chat-area").append(el);
  updateTab(chat);
  $("no-chat").hidden = true;
  return chat;
}

// The page's own menu items (lifting anonymity, transfer) go after the features' ones
// (`ctx.addTool`); choosing an item closes the menu, and so does Esc.
function arrangeTools(chat) {
  const more = chat.el.querySelector(".more-actions");
  const menu = more.querySelector(".more-menu");
  for (const node of menu.querySelectorAll(":scope > .disclosure-link, :scope > .transfer-chat")) {
    node.classList.add("menu-item");
    menu.append(node);
  }
  menu.addEventListener("click", () => { more.open = false; });
  more.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && more.open) {
      event.stopPropagation();
      more.open = false;
      more.querySelector("summary").focus();
    }
  });
}

function updateTab(chat) {
  const label = S[`channel.${chat.summary.channel}`];
  const position = [...chats.keys()].indexOf(chat.summary.conversation_id) + 1;
  chat.tab.replaceChildren();
  const name = document.createElement("span");
  name.textContent = label;
  chat.tab.append(name);
  if (chat.unread) {
    const badge = document.createElement("span");
    badge.className = "unread";
    badge.textContent = String(chat.unread);
    badge.setAttribute("aria-label", format(S["staff.unread"], { count: chat.unread }));
    chat.tab.append(" ", badge);
  }
  chat.tab.title = position <= 9 ? format(S["staff.tab_shortcut"], { n: position }) : "";
  chat.tab.classList.toggle("ended", chat.ended);
  updateTitle();
}

// The window title counts unread messages, so a console in the background shows them.
const baseTitle = document.title;
function updateTitle() {
  const total = [...chats.values()].reduce((sum, c) => sum + c.unread, 0);
  document.title = total ? `(${total}) ${baseTitle}` : baseTitle;
}

// ---- notifications (sound, desktop): a chat assigned, or a message while away ----
const PREFS_KEY = "confide.console.prefs"; // staff device only; the visitor page stores nothing
const prefs = { sound: true, desktop: false };
try { Object.assign(prefs, JSON.parse(localStorage.getItem(PREFS_KEY) || "{}")); } catch { /* defaults */ }
let audio = null;

function beep() {
  if (!prefs.sound) return;
  try {
    audio = audio || new AudioContext();
    for (const [i, frequency] of [660, 880].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      gain.gain.value = 0.08;
      osc.connect(gain).connect(audio.destination);
      osc.frequency.value = frequency;
      osc.start(audio.currentTime + i * 0.18);
      osc.stop(audio.currentTime + i * 0.18 + 0.15);
    }
  } catch { /* no audio device */ }
}

// Never the message itself: the notification may show on a screen others can see.
function notify(chat, text) {
  beep();
  if (!prefs.desktop || !("Notification" in window) || Notification.permission !== "granted") return;
  const note = new Notification(text, { body: describe(chat.summary), tag: chat.summary.conversation_id, silent: true });
  note.onclick = () => { window.focus(); select(chat.summary.conversation_id); note.close(); };
}

function setupNotifications() {
  const sound = $("pref-sound");
  const desktop = $("pref-desktop");
  sound.checked = prefs.sound;
  desktop.checked = prefs.desktop && "Notification" in window && Notification.permission === "granted";
  const save = () => localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  sound.addEventListener("change", () => { prefs.sound = sound.checked; save(); if (prefs.sound) beep(); });
  desktop.addEventListener("change", async () => {
    prefs.desktop = desktop.checked;
    if (desktop.checked && "Notification" in window && Notification.permission !== "granted") {
      const answer = await Notification.requestPermission();
      if (answer !== "granted") {
        desktop.checked = false;
        prefs.desktop = false;
        showError(S["staff.notify_denied"]);
      }
    }
    save();
  });
  if (!("Notification" in window)) desktop.closest("label").hidden = true;
}

// ---- keyboard shortcuts ----
function setupShortcuts() {
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const ids = [...chats.keys()];
    const at = ids.indexOf(active);
    let target = null;
    if (event.key === "ArrowDown" || event.key === "PageDown") target = ids[(at + 1) % ids.length];
    else if (event.key === "ArrowUp" || event.key === "PageUp") target = ids[(at - 1 + ids.length) % ids.length];
    else if (/^Digit[1-9]$/.test(event.code)) target = ids[Number(event.code.slice(5)) - 1];
    else if (event.code === "KeyN") {
      event.preventDefault();
      $("take-next").click();
      return;
    } else if (event.code === "KeyH" || event.key === "?") {
      event.preventDefault();
      $("shortcuts-dialog").showModal();
      return;
    }
    if (target) {
      event.preventDefault();
      select(target);
      chats.get(target).el.querySelector(".composer textarea").focus();
    }
  });
  $("shortcuts-open").addEventListener("click", () => $("shortcuts-dialog").showModal());
  $("shortcuts-close").addEventListener("click", () => $("shortcuts-dialog").close());
}

function select(conversationId) {
  active = conversationId;
  for (const [id, chat] of chats) {
    const on = id === conversationId;
    chat.el.hidden = !on;
    chat.tab.setAttribute("aria-selected", on ? "true" : "false");
    if (on) {
      chat.unread = 0;
      updateTab(chat);
      reportRead(chat);
    }
  }
  updateTitle();
  const chat = chats.get(conversationId);
  if (chat) for (const hook of ctx.selectHooks) hook(chat);
  if (chat && !chat.ended) chat.el.querySelector(".composer textarea").focus();
}

function authorLabel(author) {
  if (author === "self") return "";
  if (author === "visitor") return S["author.person"];
  return S[`author.${author}`] || author;
}

function messageItem(conversationId, author, body, at) {
  const li = document.createElement("li");
  // Our side: what this console sent, and colleagues of the same role (the earlier officer
  // of a transferred chat); the visitor and other roles (a psychologist an officer observes)
  // on the other side.
  const ours = author === "self" || author === myRole;
  li.className = `message ${ours ? "from-self" : "from-other"}`;
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = `${authorLabel(author)}${at ? " · " + timeOf(at, lang) : ""}`;
  const text = document.createElement("p");
  text.className = "body";
  text.textContent = body;
  li.append(meta, text);
  return li;
}

function onMessage(frame) {
  const chat = chats.get(frame.conversation_id);
  if (!chat || frame.seq <= chat.lastSeq) return;
  chat.lastSeq = frame.seq;
  const list = chat.el.querySelector(".messages");
  let li = frame.client_id && chat.shown.get(frame.client_id);
  if (li) {
    li.classList.remove("pending");
    li.dataset.seq = String(frame.seq);
    li.querySelector(".meta").textContent = `${authorLabel(frame.author)} · ${timeOf(frame.at, lang)}`;
    chat.pending = chat.pending.filter((p) => p.client_id !== frame.client_id);
  } else if (frame.author === "system") {
    li = document.createElement("li");
    li.className = "message system";
    li.textContent = S[`system.${frame.body}`] || frame.body;
  } else {
    li = messageItem(frame.conversation_id, frame.author, frame.body, frame.at);
    const card = renderCard(S, frame.kind, frame.body);
    if (card) li.querySelector(".body").replaceChildren(card);
    if (frame.author !== "visitor") li.dataset.seq = String(frame.seq);
  }
  list.append(li);
  if (frame.author === "visitor") chat.el.querySelector(".typing").textContent = "";
  if (frame.author === "visitor") {
    if (active !== frame.conversation_id || document.hidden) {
      chat.unread += 1;
      updateTab(chat);
      if (document.hidden) notify(chat, S["staff.notify_message"]);
    } else {
      reportRead(chat);
    }
  }
  showReadState(chat);
  li.scrollIntoView({ block: "end" });
}

// Our messages the visitor has read show "Read".
function showReadState(chat) {
  for (const li of chat.el.querySelectorAll(".messages .from-self[data-seq]")) {
    if (Number(li.dataset.seq) > chat.visitorRead || li.querySelector(".receipt")) continue;
    const mark = document.createElement("span");
    mark.className = "receipt";
    mark.textContent = S["delivery.read"];
    li.append(mark);
  }
}

// Tell the server this console has shown the chat's messages (only when it is in view).
function reportRead(chat) {
  clearTimeout(chat.readTimer);
  chat.readTimer = setTimeout(() => {
    if (chat.ended || document.hidden || active !== chat.summary.conversation_id) return;
    if (chat.lastSeq <= chat.readSent) return;
    chat.readSent = chat.lastSeq;
    socket.send({ type: "read", conversation_id: chat.summary.conversation_id, seq: chat.lastSeq });
  }, 600);
}

function showReferrals(frame) {
  const chat = chats.get(frame.conversation_id);
  if (!chat) return;
  const list = chat.el.querySelector(".referrals");
  list.replaceChildren();
  // Who the resources are for (a conversation flagged "suspected minor" starts on minors).
  const filter = document.createElement("li");
  filter.className = "referrals-filter";
  const label = document.createElement("label");
  label.textContent = S["referral.audience"];
  const audience = document.createElement("select");
  for (const value of ["", "women", "minors"]) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = S[`referral.audience.${value || "all"}`];
    audience.append(option);
  }
  audience.value = frame.audience || "";
  audience.addEventListener("change", () => {
    socket.send({ type: "referrals", conversation_id: frame.conversation_id, audience: audience.value || null });
  });
  label.append(" ", audience);
  filter.append(label);
  list.append(filter);
  for (const resource of frame.resources) {
    const li = document.createElement("li");
    li.append(referralCard(S, JSON.stringify(resource)));
    const send = document.createElement("button");
    send.type = "button";
    send.className = "secondary";
    send.textContent = S["referral.send"];
    send.addEventListener("click", () => {
      socket.send({ type: "send_referral", conversation_id: frame.conversation_id, referral_id: resource.id, client_id: newClientId() });
      list.hidden = true;
    });
    li.append(send);
    list.append(li);
  }
  if (!frame.resources.length) {
    const li = document.createElement("li");
    li.textContent = S["referral.none"];
    list.append(li);
  }
}

function endChat(conversationId) {
  const chat = chats.get(conversationId);
  if (!chat) return;
  chat.ended = true;
  chat.el.querySelector(".composer").hidden = true;
  chat.el.querySelector(".transfer-chat").hidden = true;
  updateTab(chat);
  updateCapacity();
  for (const hook of ctx.endHooks) hook(chat);
}

function updateCapacity() {
  if (capacity === null) return;
  const open = [...chats.values()].filter((c) => !c.ended).length;
  $("capacity").textContent = format(S["staff.capacity"], { active: open, capacity });
}

function showNotes(chat, transfers) {
  const list = chat.el.querySelector(".handover-notes");
  list.replaceChildren();
  for (const t of transfers || []) {
    if (!t.note) continue;
    const li = document.createElement("li");
    li.textContent = format(S["staff.transfer_note_from"], { note: t.note });
    list.append(li);
  }
}

function setIdentity(chat, present) {
  const section = chat.el.querySelector(".identity");
  section.hidden = false;
  section.querySelector(".identity-fields").replaceChildren();
  section.querySelector(".identity-note").textContent = present ? S["staff.identity_shared"] : S["staff.identity_withdrawn"];
  const button = section.querySelector(".identity-show");
  button.hidden = !present;
  button.textContent = S["staff.identity_show"];
  button.onclick = () => socket.send({ type: "identity_view", conversation_id: chat.summary.conversation_id });
}

function showIdentity(frame) {
  const chat = chats.get(frame.conversation_id);
  if (!chat) return;
  if (!frame.fields) { setIdentity(chat, false); return; }
  const list = chat.el.querySelector(".identity-fields");
  list.replaceChildren();
  for (const name of ["name", "phone", "email", "address"]) {
    if (!frame.fields[name]) continue;
    const dt = document.createElement("dt");
    dt.textContent = S[`staff.identity_${name}`];
    const dd = document.createElement("dd");
    dd.className = `identity-${name}`;
    dd.textContent = frame.fields[name];
    list.append(dt, dd);
  }
  chat.el.querySelector(".identity-show").hidden = true;
}

function released(frame) {
  const chat = chats.get(frame.conversation_id);
  if (!chat) return;
  const li = document.createElement("li");
  li.className = "message system";
  li.textContent = frame.reason === "transferred" ? S["staff.released_transferred"] : S["staff.released_requeued"];
  chat.el.querySelector(".messages").append(li);
  chat.el.classList.add("released");
  endChat(frame.conversation_id);
}

function showAlert(frame) {
  const li = document.createElement("li");
  const what = `${S[`channel.${frame.channel}`]} · ${frame.departement || S["dept.unknown"]}`;
  li.textContent = format(S["staff.alert"], { minutes: Math.floor(frame.waiting_s / 60), what });
  $("alerts").prepend(li);
  setTimeout(() => li.remove(), 5 * 60 * 1000);
}

function openTransfer(frame) {
  const staffSelect = $("transfer-staff");
  staffSelect.replaceChildren();
  for (const person of frame.staff) {
    const option = document.createElement("option");
    option.value = String(person.id);
    option.textContent = `${person.display_name} · ${S[`author.${person.role}`] || person.role} · ${S[`availability.${person.availability}`]} · ${person.active}/${person.capacity}`;
    staffSelect.append(option);
  }
  const teamSelect = $("transfer-team");
  teamSelect.replaceChildren();
  for (const team of frame.teams) {
    const option = document.createElement("option");
    option.value = String(team.id);
    option.textContent = team.name;
    teamSelect.append(option);
  }
  $("transfer-note").value = "";
  $("transfer-error").hidden = true;
  $("transfer-dialog").showModal();
}

function setupConsoleControls() {
  const availability = $("availability");
  availability.addEventListener("change", () => socket.send({ type: "availability", value: availability.value }));
  $("take-next").addEventListener("click", () => {
    $("queue-info").textContent = "";
    takingByHand = true;
    socket.send({ type: "take_next" });
  });
  $("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());
  $("transfer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const to = new FormData($("transfer-form")).get("to") || $("transfer-form").querySelector("input[name=to]:checked").value;
    const frame = { type: "transfer", conversation_id: transferFor, to, note: $("transfer-note").value };
    if (to === "staff") frame.target_id = Number($("transfer-staff").value);
    if (to === "team") frame.target_id = Number($("transfer-team").value);
    if (to !== "psychologists" && !frame.target_id) return;
    socket.send(frame);
    $("transfer-dialog").close();
  });
}

function onFrame(frame) {
  switch (frame.type) {
    case "hello":
      myRole = frame.staff.role;
      for (const summary of frame.conversations) {
        const chat = ensureChat(summary);
        socket.send({ type: "open", conversation_id: summary.conversation_id, after_seq: chat.lastSeq });
      }
      // Conversations opened before a reconnect: catch up and resend what was not acked.
      for (const chat of chats.values()) {
        for (const item of chat.pending) {
          socket.send({ type: "send", conversation_id: chat.summary.conversation_id, client_id: item.client_id, body: item.body });
        }
      }
      if (!active && chats.size) select(chats.keys().next().value);
      if (!chats.size) $("no-chat").textContent = S["staff.no_chat"];
      for (const hook of ctx.helloHooks) hook(frame);
      $("availability").value = frame.availability;
      $("availability").disabled = false;
      capacity = frame.capacity;
      updateCapacity();
      break;
    case "availability":
      $("availability").value = frame.value;
      break;
    case "released":
      released(frame);
      break;
    case "alert":
      showAlert(frame);
      break;
    case "referrals":
      showReferrals(frame);
      break;
    case "transfer_targets":
      if (transferFor) openTransfer(frame);
      break;
    case "nothing_to_take":
      takingByHand = false;
      $("queue-info").textContent = S["staff.nothing_to_take"];
      break;
    case "queue":
      renderQueue(frame.items);
      break;
    case "opened": {
      const isNew = !chats.has(frame.conversation.conversation_id);
      const chat = ensureChat(frame.conversation);
      chat.visitorRead = Math.max(chat.visitorRead, frame.conversation.visitor_read_seq || 0);
      const asked = takingByHand || requested.delete(frame.conversation.conversation_id);
      // Chats reopened after a (re)connection were created from `hello`: not new, no alert.
      if ((isNew || chat.ended) && !asked) notify(chat, S["staff.notify_assigned"]);
      takingByHand = false;
      if (chat.ended) {
        // The same conversation came back to this console (transferred back, re-assigned).
        chat.ended = false;
        chat.el.classList.remove("released");
        for (const sel of [".composer", ".transfer-chat"]) chat.el.querySelector(sel).hidden = false;
        updateTab(chat);
      }
      showNotes(chat, frame.transfers);
      if (frame.has_identity) setIdentity(chat, true);
      for (const hook of ctx.openedHooks) hook(chat, frame);
      // Do not pull the officer away from the chat they are typing in: a chat handed to
      // them appears as a new tab (with its unread count) unless they asked for it.
      if (asked || !active || active === frame.conversation.conversation_id) select(frame.conversation.conversation_id);
      updateCapacity();
      break;
    }
    case "message":
      onMessage(frame);
      break;
    case "identity_changed": {
      const chat = chats.get(frame.conversation_id);
      if (chat) setIdentity(chat, frame.present);
      break;
    }
    case "identity":
      showIdentity(frame);
      break;
    case "ack": {
      const chat = chats.get(frame.conversation_id);
      const li = chat && chat.shown.get(frame.client_id);
      if (li) {
        li.classList.remove("pending");
        li.dataset.seq = String(frame.seq);
        showReadState(chat);
      }
      if (chat) chat.pending = chat.pending.filter((p) => p.client_id !== frame.client_id);
      break;
    }
    case "typing": {
      const chat = chats.get(frame.conversation_id);
      if (chat) {
        const el = chat.el.querySelector(".typing");
        el.textContent = S[`typing.${frame.author}`] || S["typing.staff"];
        clearTimeout(chat.typingTimer);
        chat.typingTimer = setTimeout(() => { el.textContent = ""; }, 4000);
      }
      break;
    }
    case "closed":
    case "erased":
      endChat(frame.conversation_id);
      break;
    case "read": {
      const chat = chats.get(frame.conversation_id);
      if (chat) {
        chat.visitorRead = Math.max(chat.visitorRead, frame.seq);
        showReadState(chat);
      }
      break;
    }
    case "error":
      takingByHand = false;
      showError(frame.message);
      for (const button of document.querySelectorAll(".take")) button.disabled = false;
      break;
    default: {
      const handler = ctx.handlers.get(frame.type);
      if (handler) handler(frame);
      break;
    }
  }
}

function showError(message) {
  const chat = active && chats.get(active);
  const target = chat ? chat.el.querySelector(".chat-error") : null;
  if (target) {
    target.textContent = message;
    target.hidden = false;
    clearTimeout(target.timer);
    target.timer = setTimeout(() => { target.hidden = true; }, 6000);
  } else {
    $("queue-info").textContent = message;
  }
}

// A click outside an open "More actions" menu closes it.
document.addEventListener("click", (event) => {
  for (const more of document.querySelectorAll(".more-actions[open]")) {
    if (!more.contains(event.target)) more.open = false;
  }
});

$("no-chat").textContent = S["staff.no_chat"];
for (const feature of [replies, casework, handoff, reports]) feature.install(ctx);
setupConsoleControls();
setupNotifications();
setupShortcuts();
document.addEventListener("visibilitychange", () => {
  if (document.hidden || !active) return;
  const chat = chats.get(active);
  chat.unread = 0;
  updateTab(chat);
  reportRead(chat);
});
socket.connect();
