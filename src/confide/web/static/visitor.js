// The visitor's single page: choose a chat, start, wait, chat, leave without a trace.
// State lives in memory and in sessionStorage (one key, cleared on exit); never in
// localStorage, cookies or the URL.
import { LiveSocket, newClientId, loadStrings, format, timeOf } from "./socket.js";
import { renderCard } from "./cards.js";

const STORE_KEY = "confide";
const MAX_CHARS = 4000;
const S = loadStrings();
const lang = document.documentElement.lang;
const $ = (id) => document.getElementById(id);

let state = null; // {conversation_id, token, pending: [{client_id, body}]}
let socket = null;
let lastSeq = 0;
let chosenChannel = null;
let typingTimer = null;
let lastTypingSent = 0;
const shown = new Map(); // client_id -> <li> of own messages
let staffReadSeq = 0; // how far the staff member in charge has read
let readSent = 0; // the read position last told to the server
let readTimer = null;

function save() {
  if (state) sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
}

function load() {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(STORE_KEY));
    return parsed && parsed.token ? { pending: [], ...parsed } : null;
  } catch {
    return null;
  }
}

function wipe() {
  try { sessionStorage.clear(); } catch { /* storage disabled */ }
  state = null;
}

function showStep(name, { focus = true } = {}) {
  for (const step of document.querySelectorAll(".step")) step.hidden = step.id !== `step-${name}`;
  document.body.classList.toggle("in-chat", name === "chat");
  // Move focus to the new step's heading so screen readers announce it (not on first load).
  const heading = document.querySelector(`#step-${name} h1`);
  if (focus && heading && name !== "chat") { heading.tabIndex = -1; heading.focus(); }
}

// ---- quick exit -------------------------------------------------------------
const exitUrl = $("quick-exit").dataset.exitUrl;

function quickExit() {
  $("exit-overlay").hidden = false;
  document.body.classList.add("exiting");
  const token = state && state.token;
  wipe();
  if (token) {
    const blob = new Blob([JSON.stringify({ token, erase: false })], { type: "text/plain" });
    navigator.sendBeacon("/api/conversations/leave", blob);
  }
  if (socket) socket.stop();
  location.replace(exitUrl);
}

$("quick-exit").addEventListener("click", quickExit);
let shiftPresses = [];
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    if ($("erase-dialog").open) return; // Esc closes the dialog first
    quickExit();
  } else if (event.key === "Shift" && !event.repeat) {
    const now = Date.now();
    shiftPresses = shiftPresses.filter((t) => now - t < 2000);
    shiftPresses.push(now);
    if (shiftPresses.length >= 3) quickExit();
  }
});
window.addEventListener("pageshow", (event) => {
  // Restored from the back-forward cache after a quick exit: show nothing of the chat.
  if (event.persisted && !load()) {
    location.replace(`/?lang=${lang}`);
  }
});

// ---- home and start -----------------------------------------------------------
for (const button of document.querySelectorAll(".channel")) {
  button.addEventListener("click", () => {
    chosenChannel = button.dataset.channel;
    $("chosen-channel").textContent = S[`channel.${chosenChannel}`];
    showStep("start");
    $("postcode").focus();
  });
}
$("start-back").addEventListener("click", () => showStep("home"));

function fieldError(id, message) {
  const el = $(id);
  el.textContent = message || "";
  el.hidden = !message;
  if (id === "postcode-error") $("postcode").setAttribute("aria-invalid", message ? "true" : "false");
}

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  fieldError("postcode-error", "");
  fieldError("start-error", "");
  const postcode = $("postcode").value.replace(/[\s.]/g, "");
  if (!/^\d{5}$/.test(postcode)) {
    fieldError("postcode-error", S["error.postcode"] || $("postcode-hint").textContent);
    $("postcode").focus();
    return;
  }
  const role = new FormData($("start-form")).get("role");
  $("start-submit").disabled = true;
  try {
    const response = await fetch("/api/conversations", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ channel: chosenChannel, role, postcode, lang }),
      credentials: "omit",
      cache: "no-store",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || {};
      if (error.code === "postcode_invalid") {
        fieldError("postcode-error", error.message);
        $("postcode").focus();
      } else {
        fieldError("start-error", error.message || S["error.generic"]);
      }
      return;
    }
    state = { conversation_id: data.conversation_id, token: data.token, pending: [] };
    save();
    openChat();
  } catch {
    fieldError("start-error", S["error.network"]);
  } finally {
    $("start-submit").disabled = false;
  }
});

// ---- chat --------------------------------------------------------------------
function setConnection(stateName) {
  const el = $("connection");
  el.dataset.state = stateName;
  el.textContent = S[`state.${stateName}`];
}

function messageItem(author, body, at) {
  const li = document.createElement("li");
  li.className = `message from-${author}`;
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = `${S[`author.${author}`] || author} · ${at ? timeOf(at, lang) : ""}`;
  const text = document.createElement("p");
  text.className = "body";
  text.textContent = body;
  li.append(meta, text);
  return li;
}

function setDelivery(li, key) {
  let mark = li.querySelector(".delivery");
  if (!mark) {
    mark = document.createElement("span");
    mark.className = "delivery";
    li.append(mark);
  }
  mark.dataset.state = key;
  mark.textContent = S[`delivery.${key}`];
}

// Own messages the other side has read show "Read" instead of "Sent".
function showReadState() {
  for (const li of shown.values()) {
    const seq = Number(li.dataset.seq || 0);
    const mark = li.querySelector(".delivery");
    if (seq && seq <= staffReadSeq && mark && mark.dataset.state === "sent") setDelivery(li, "read");
  }
}

// Tell the server what this page has shown, once it is really on screen.
function reportRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    if (!socket || document.hidden || lastSeq <= readSent || $("composer").hidden) return;
    readSent = lastSeq;
    socket.send({ type: "read", seq: lastSeq });
  }, 600);
}

function renderMessage(frame) {
  if (frame.seq <= lastSeq) return;
  lastSeq = frame.seq;
  if (frame.author === "system") {
    const li = document.createElement("li");
    li.className = "message system";
    li.textContent = S[`system.${frame.body}`] || frame.body;
    $("messages").append(li);
  } else if (frame.client_id && shown.has(frame.client_id)) {
    const li = shown.get(frame.client_id);
    li.querySelector(".meta").textContent = `${S["author.visitor"]} · ${timeOf(frame.at, lang)}`;
    li.dataset.seq = String(frame.seq);
    setDelivery(li, frame.seq <= staffReadSeq ? "read" : "sent");
    $("messages").append(li); // keep server order
    dropPending(frame.client_id);
  } else {
    const li = messageItem(frame.author, frame.body, frame.at);
    const card = renderCard(S, frame.kind, frame.body);
    if (card) li.querySelector(".body").replaceChildren(card);
    if (frame.author === "visitor") {
      li.dataset.seq = String(frame.seq);
      setDelivery(li, frame.seq <= staffReadSeq ? "read" : "sent");
    }
    if (frame.client_id) shown.set(frame.client_id, li);
    $("messages").append(li);
    dropPending(frame.client_id);
  }
  if (frame.author !== "visitor") $("typing").textContent = "";
  $("messages").lastElementChild.scrollIntoView({ block: "end" });
}

function dropPending(clientId) {
  if (!state || !clientId) return;
  const before = state.pending.length;
  state.pending = state.pending.filter((p) => p.client_id !== clientId);
  if (state.pending.length !== before) save();
}

function showPending(item) {
  const li = messageItem("visitor", item.body, null);
  setDelivery(li, "sending");
  shown.set(item.client_id, li);
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
}

function setWaiting(position, etaS, alert) {
  $("waiting").hidden = false;
  $("overflow-alert").hidden = !alert;
  $("queue-position").textContent = position <= 1 ? S["queue.first"] : format(S["queue.position"], { position });
  $("queue-eta").textContent = etaS == null ? S["queue.eta_unknown"] : format(S["queue.eta"], { minutes: Math.max(1, Math.round(etaS / 60)) });
}

function ended() {
  const wasOpen = !$("composer").hidden;
  $("identity-tools").hidden = true;
  $("notify").closest("label").hidden = true;
  $("ended").hidden = false;
  $("composer").hidden = true;
  $("counter").hidden = true;
  $("waiting").hidden = true;
  $("typing").textContent = "";
  if (wasOpen) {
    $("ended").scrollIntoView({ block: "end" });
    $("ended").focus();
  }
}

function chatError(message) {
  fieldError("chat-error", message);
}

function onFrame(frame) {
  switch (frame.type) {
    case "ready":
      chatError("");
      for (const advice of document.querySelectorAll(".advice")) advice.hidden = advice.dataset.channel !== frame.channel;
      if (frame.status === "waiting") $("waiting").hidden = false;
      if (frame.assigned) $("waiting").hidden = true;
      staffReadSeq = Math.max(staffReadSeq, frame.staff_read_seq || 0);
      readSent = 0;
      socket.send({ type: "resume", after_seq: lastSeq });
      for (const item of state.pending) socket.send({ type: "send", client_id: item.client_id, body: item.body });
      if (!["waiting", "active"].includes(frame.status)) ended();
      break;
    case "message": {
      const fresh = frame.seq > lastSeq;
      renderMessage(frame);
      if (fresh && frame.author !== "visitor") {
        alertNewMessage();
        reportRead();
      }
      break;
    }
    case "read":
      staffReadSeq = Math.max(staffReadSeq, frame.seq);
      showReadState();
      break;
    case "ack": {
      const li = shown.get(frame.client_id);
      if (li && li.querySelector(".delivery").dataset.state !== "read") {
        li.dataset.seq = String(frame.seq);
        setDelivery(li, frame.seq <= staffReadSeq ? "read" : "sent");
      }
      dropPending(frame.client_id);
      break;
    }
    case "queue":
      setWaiting(frame.position, frame.eta_s, Boolean(frame.alert));
      break;
    case "assigned":
      $("waiting").hidden = true;
      break;
    case "typing":
      // Who is writing: the police officer, or the psychologist or supervisor who took over.
      $("typing").textContent = S[`typing.${frame.author}`] || S["typing.staff"];
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => { $("typing").textContent = ""; }, 4000);
      break;
    case "closed":
      ended();
      break;
    case "identity_saved":
      // Nothing stays on the page: someone looking at the device later sees no name.
      $("identity-form").reset();
      $("identity-status").textContent = S["identity.saved"];
      $("identity-withdraw").hidden = false;
      break;
    case "identity_withdrawn":
      $("identity-status").textContent = S["identity.withdrawn"];
      $("identity-withdraw").hidden = true;
      break;
    case "erased":
      finishErase();
      break;
    case "error":
      if (frame.code === "token_invalid") {
        wipe();
        showStep("home");
        fieldError("start-error", frame.message);
      } else if (frame.code === "unavailable") {
        // The server is briefly without its database: keep every pending message and try
        // again shortly (resends carry the same client_id, so nothing is stored twice).
        chatError(frame.message);
        setTimeout(() => { if (socket) socket.restart(); }, 2000);
      } else {
        chatError(frame.message);
        // A refused message stays in the box: take it back from the pending list.
        markFailed();
      }
      break;
    default:
      break;
  }
}

let lastSentItem = null;
function markFailed() {
  if (!lastSentItem || !state) return;
  const item = lastSentItem;
  lastSentItem = null;
  if (!state.pending.some((p) => p.client_id === item.client_id)) return;
  dropPending(item.client_id);
  const li = shown.get(item.client_id);
  if (li) li.remove();
  shown.delete(item.client_id);
  if (!$("body").value) $("body").value = item.body;
  updateCounter();
}

function openChat() {
  showStep("chat");
  $("body").focus();
  for (const item of state.pending) showPending(item);
  socket = new LiveSocket({
    path: `/ws/visitor?lang=${lang}`,
    onOpen: () => socket.send({ type: "auth", token: state.token }),
    onFrame,
    onState: (s) => setConnection(s),
    onRefused: (code) => {
      if (code === 4410) finishErase();
    },
  });
  socket.connect();
}

function updateCounter() {
  const left = MAX_CHARS - $("body").value.length;
  $("counter").textContent = left < 500 ? format(S["chars_left"], { count: left }) : "";
  $("counter").classList.toggle("over", left < 0);
}

$("body").addEventListener("input", () => {
  updateCounter();
  const now = Date.now();
  if (socket && now - lastTypingSent > 2500) {
    lastTypingSent = now;
    socket.send({ type: "typing" });
  }
});
$("body").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = $("body").value;
  if (!body.trim()) return;
  if (body.length > MAX_CHARS) {
    chatError(format(S["chars_left"], { count: MAX_CHARS - body.length }));
    return;
  }
  chatError("");
  const item = { client_id: newClientId(), body };
  state.pending.push(item);
  save();
  showPending(item);
  lastSentItem = item;
  $("body").value = "";
  updateCounter();
  socket.send({ type: "send", client_id: item.client_id, body });
});

// ---- voluntary identity (optional, sent only when the visitor asks) ----------------------
$("identity-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData($("identity-form"));
  const fields = {};
  for (const name of ["name", "phone", "email", "address"]) fields[name] = String(data.get(name) || "").trim();
  if (!Object.values(fields).some(Boolean)) {
    $("identity-status").textContent = S["identity.empty"];
    return;
  }
  lastSentItem = null; // an error now is about this form, not about a message
  if (socket && socket.send({ type: "identity", fields })) $("identity-status").textContent = S["delivery.sending"];
  else $("identity-status").textContent = S["error.network"];
});
$("identity-withdraw").addEventListener("click", () => {
  lastSentItem = null;
  if (socket) socket.send({ type: "identity_withdraw" });
});

// ---- optional alerts (off unless the visitor turns them on) --------------------------
// A changing tab title or a sound could give the visitor away: both stay off by default.
const baseTitle = document.title;
let unseen = 0;
let audio = null;

function alertNewMessage() {
  if (!$("notify").checked || !document.hidden) return;
  unseen += 1;
  document.title = `(${unseen}) ${baseTitle}`;
  try {
    audio = audio || new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    gain.gain.value = 0.05;
    osc.connect(gain).connect(audio.destination);
    osc.frequency.value = 660;
    osc.start();
    osc.stop(audio.currentTime + 0.15);
  } catch { /* no audio: the title is enough */ }
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) {
    unseen = 0;
    document.title = baseTitle;
    reportRead();
  }
});
$("notify").addEventListener("change", () => {
  if (!$("notify").checked) document.title = baseTitle;
});

// ---- after the end --------------------------------------------------------------------
// The closed conversation stays on the server (for the officer's follow-up); this device
// forgets it and the visitor starts again from the choice of chat.
$("new-conversation").addEventListener("click", () => {
  if (socket) socket.stop();
  socket = null;
  wipe();
  location.replace(`/?lang=${lang}`);
});

// ---- erase -------------------------------------------------------------------
$("erase").addEventListener("click", () => $("erase-dialog").showModal());
$("erase-cancel").addEventListener("click", () => $("erase-dialog").close());
$("erase-confirm").addEventListener("click", () => {
  $("erase-dialog").close();
  const token = state && state.token;
  if (!(socket && socket.send({ type: "erase" })) && token) {
    const blob = new Blob([JSON.stringify({ token, erase: true })], { type: "text/plain" });
    navigator.sendBeacon("/api/conversations/leave", blob);
  }
  finishErase();
});

function finishErase() {
  if (socket) socket.stop();
  socket = null;
  wipe();
  $("messages").replaceChildren();
  shown.clear();
  lastSeq = 0;
  showStep("erased");
}

// ---- start ---------------------------------------------------------------------
state = load();
if (state) openChat();
else showStep("home", { focus: false });
