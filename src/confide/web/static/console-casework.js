// Console feature: case work — internal notes, danger / suspected-minor flags, closing with a
// qualification, and the transcript link. See the extension points (`ctx`) in console.js.
// DOM is built with textContent only; every text comes from ctx.S.
import { timeOf } from "./socket.js";

const FLAGS = ["danger", "minor"];
const CHANNELS = ["domestic", "sexual", "discrimination"];
const OFFENCES = ["yes", "no", "unknown"];
const OUTCOMES = ["information", "referral", "guidance", "signalement", "emergency", "handoff"];
const NOTE_MAX = 2000;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, text) {
  const node = el("button", className, text);
  node.type = "button";
  return node;
}

export function install(ctx) {
  const S = ctx.S;
  let permissions = null; // Set of the user's permissions, from the hello frame
  let closeFor = null; // conversation_id the closing dialog is open for
  const can = (permission) => permissions !== null && permissions.has(permission);

  // ---- per chat: tools in the header, the notes panel --------------------------------------

  function setFlags(chat, flags) {
    chat.casework.flags = flags || [];
    const badges = chat.casework.badges;
    badges.replaceChildren();
    for (const flag of chat.casework.flags) {
      const badge = el("span", `tag flag flag-${flag}`, S[`flag.${flag}`]);
      badge.dataset.flag = flag;
      badges.append(badge);
    }
    for (const toggle of chat.casework.toggles) {
      toggle.setAttribute("aria-pressed", chat.casework.flags.includes(toggle.dataset.flag) ? "true" : "false");
    }
  }

  function setNotes(chat, notes) {
    const list = chat.casework.notesList;
    list.replaceChildren();
    for (const note of notes || []) {
      const li = el("li", "note");
      const role = S[`author.${note.author_role}`] || note.author_role;
      li.append(el("span", "note-meta", `${role} ${note.author_name} · ${timeOf(note.at, ctx.lang)}`));
      li.append(el("p", "note-body", note.body));
      list.append(li);
    }
    if (!list.children.length) list.append(el("li", "note empty", S["casework.notes_none"]));
    chat.casework.notesButton.textContent = notes && notes.length ? `${S["casework.notes"]} (${notes.length})` : S["casework.notes"];
  }

  // Which tools show, from the permissions and whether the chat is still going.
  function refresh(chat) {
    const c = chat.casework;
    const writes = can("staff:casework:write");
    for (const toggle of c.toggles) toggle.hidden = !writes || chat.ended;
    c.notesButton.hidden = !writes;
    c.noteForm.hidden = !writes || chat.ended;
    c.transcript.hidden = !can("staff:transcript:export");
    c.close.hidden = !can("staff:conversation:close") || chat.ended;
  }

  ctx.chatHooks.push((chat) => {
    const id = chat.summary.conversation_id;
    const panels = chat.el.querySelector(".chat-panels");
    const c = { flags: [] };
    chat.casework = c;

    c.badges = el("span", "casework-flags");
    c.badges.setAttribute("aria-label", S["casework.flags"]);
    c.toggles = FLAGS.map((flag) => {
      const toggle = button(`secondary flag-toggle flag-toggle-${flag}`, S[`flag.${flag}`]);
      toggle.dataset.flag = flag;
      toggle.setAttribute("aria-pressed", "false");
      toggle.hidden = true;
      toggle.addEventListener("click", () => {
        const on = toggle.getAttribute("aria-pressed") !== "true";
        ctx.send({ type: "flag_set", conversation_id: id, flag, on });
      });
      return toggle;
    });

    const panelId = `notes-${id}`;
    c.notesButton = button("secondary notes-toggle", S["casework.notes"]);
    c.notesButton.hidden = true;
    c.notesButton.setAttribute("aria-expanded", "false");
    c.notesButton.setAttribute("aria-controls", panelId);

    c.transcript = el("a", "transcript-link", S["casework.transcript"]);
    c.transcript.href = `/staff/conversations/${id}/transcript?lang=${ctx.lang}`;
    c.transcript.target = "_blank";
    c.transcript.rel = "noopener";
    c.transcript.hidden = true;

    c.close = button("secondary close-chat", S["casework.close"]);
    c.close.hidden = true;
    c.close.addEventListener("click", () => openCloseDialog(chat));

    ctx.addTool(chat, c.badges, { title: true });
    for (const toggle of c.toggles) ctx.addTool(chat, toggle, { rare: true });
    ctx.addTool(chat, c.transcript, { rare: true });
    ctx.addTool(chat, c.notesButton);
    ctx.addTool(chat, c.close);

    // The notes panel: list, hint, and the form to add one.
    const panel = el("section", "casework-notes");
    panel.id = panelId;
    panel.hidden = true;
    panel.setAttribute("aria-label", S["casework.notes"]);
    panel.append(el("h3", "notes-title", S["casework.notes"]), el("p", "hint", S["casework.notes_hint"]));
    c.notesList = el("ul", "notes-list");
    c.noteForm = el("form", "note-form");
    c.noteForm.autocomplete = "off";
    const textareaId = `note-body-${id}`;
    const label = el("label", "", S["casework.note_label"]);
    label.htmlFor = textareaId;
    const textarea = el("textarea");
    textarea.id = textareaId;
    textarea.rows = 2;
    textarea.maxLength = NOTE_MAX;
    textarea.autocomplete = "off";
    const add = el("button", "primary note-add", S["casework.note_add"]);
    add.type = "submit";
    c.noteError = el("p", "form-error note-error");
    c.noteError.setAttribute("role", "alert");
    c.noteError.hidden = true;
    c.noteForm.append(label, textarea, c.noteError, add);
    c.noteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = textarea.value.trim();
      if (!body) return;
      if (body.length > NOTE_MAX) {
        c.noteError.textContent = S["casework.note_too_long"];
        c.noteError.hidden = false;
        return;
      }
      c.noteError.hidden = true;
      ctx.send({ type: "note_add", conversation_id: id, body });
      textarea.value = "";
    });
    panel.append(c.notesList, c.noteForm);
    panels.append(panel);
    c.notesButton.addEventListener("click", () => {
      panel.hidden = !panel.hidden;
      c.notesButton.setAttribute("aria-expanded", panel.hidden ? "false" : "true");
      if (!panel.hidden) textarea.focus();
    });
    setNotes(chat, []);
    refresh(chat);
  });

  ctx.helloHooks.push((frame) => {
    permissions = new Set(frame.staff.permissions);
    for (const chat of ctx.chats.values()) if (chat.casework) refresh(chat);
  });

  ctx.openedHooks.push((chat, frame) => {
    if (!chat.casework) return;
    setFlags(chat, frame.flags);
    if (frame.notes) setNotes(chat, frame.notes);
    refresh(chat);
  });

  ctx.endHooks.push((chat) => {
    if (!chat.casework) return;
    refresh(chat);
    if (closeFor === chat.summary.conversation_id && dialog.open) dialog.close();
  });

  ctx.handlers.set("notes_changed", (frame) => {
    if (ctx.chats.has(frame.conversation_id)) ctx.send({ type: "notes", conversation_id: frame.conversation_id });
  });
  ctx.handlers.set("notes", (frame) => {
    const chat = ctx.chats.get(frame.conversation_id);
    if (chat && chat.casework) setNotes(chat, frame.notes);
  });
  ctx.handlers.set("flags_changed", (frame) => {
    const chat = ctx.chats.get(frame.conversation_id);
    if (chat && chat.casework) setFlags(chat, frame.flags);
  });
  ctx.handlers.set("flag_alert", showFlagAlert);
  ctx.handlers.set("close_prefill", (frame) => {
    if (frame.conversation_id !== closeFor || !dialog.open) return;
    prefill(frame);
  });

  // ---- supervisors: a prominent, dismissable alert when a flag is set ----------------------

  let alerts = null;
  function showFlagAlert(frame) {
    if (!alerts) {
      alerts = el("ul", "flag-alerts");
      alerts.setAttribute("aria-live", "assertive");
      const bar = document.querySelector(".staff-bar");
      if (bar) bar.after(alerts);
      else document.body.prepend(alerts);
    }
    const li = el("li", `flag-alert flag-alert-${frame.flag}`);
    li.dataset.conversationId = frame.conversation_id;
    const what = `${S[`channel.${frame.channel}`] || frame.channel} · ${frame.departement || S["dept.unknown"]}`;
    const role = S[`author.${frame.by_role}`] || frame.by_role;
    const text = el("p", "flag-alert-text", ctx.format(S["casework.flag_alert"], { flag: S[`flag.${frame.flag}`] || frame.flag, role, what }));
    text.setAttribute("role", "alert");
    const actions = el("span", "flag-alert-actions");
    if (can("staff:conversation:read_all")) {
      const open = button("secondary flag-alert-open", S["casework.open"]);
      open.addEventListener("click", () => ctx.send({ type: "open", conversation_id: frame.conversation_id, after_seq: 0 }));
      actions.append(open);
    }
    const dismiss = button("secondary flag-alert-dismiss", S["casework.dismiss"]);
    dismiss.addEventListener("click", () => li.remove());
    actions.append(dismiss);
    li.append(text, actions);
    alerts.prepend(li);
  }

  // ---- closing: a dialog with the qualification --------------------------------------------

  const dialog = el("dialog", "close-dialog");
  dialog.id = "close-dialog";
  dialog.setAttribute("aria-labelledby", "close-dialog-title");
  const form = el("form", "close-form");
  form.method = "dialog";
  form.noValidate = true;
  const title = el("h2", "", S["casework.close_title"]);
  title.id = "close-dialog-title";
  form.append(title, el("p", "hint", S["casework.close_intro"]));

  function group(name, legend, values, labelOf, type) {
    const fieldset = el("fieldset", `close-${name}`);
    fieldset.append(el("legend", "", legend));
    for (const value of values) {
      const label = el("label", "check");
      const input = document.createElement("input");
      input.type = type;
      input.name = name;
      input.value = value;
      label.append(input, ` ${labelOf(value)}`);
      fieldset.append(label);
    }
    return fieldset;
  }
  form.append(
    group("channel", S["casework.close_channel"], CHANNELS, (v) => S[`channel.${v}`], "radio"),
    group("offence", S["casework.close_offence"], OFFENCES, (v) => S[`offence.${v}`], "radio"),
  );
  const outcomes = group("outcomes", S["casework.close_outcomes"], OUTCOMES, (v) => S[`outcome.${v}`], "checkbox");
  const prefilledHint = el("p", "hint close-prefilled", S["casework.close_prefilled"]);
  prefilledHint.hidden = true;
  outcomes.append(prefilledHint);
  form.append(outcomes);
  const error = el("p", "form-error close-error");
  error.id = "close-error";
  error.setAttribute("role", "alert");
  error.hidden = true;
  const cancel = button("secondary close-cancel", S["staff.cancel"]);
  cancel.addEventListener("click", () => dialog.close());
  const submit = el("button", "danger close-submit", S["casework.close_submit"]);
  submit.type = "submit";
  const actions = el("div", "dialog-actions");
  actions.append(cancel, submit);
  form.append(error, actions);
  dialog.append(form);
  document.body.append(dialog);

  function checked(name) {
    return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((input) => input.value);
  }

  function prefill(frame) {
    const channel = form.querySelector(`input[name="channel"][value="${frame.channel}"]`);
    if (channel && !checked("channel").length) channel.checked = true;
    let ticked = false;
    for (const value of frame.outcomes || []) {
      const box = form.querySelector(`input[name="outcomes"][value="${value}"]`);
      if (box && !box.checked) {
        box.checked = true;
        ticked = true;
      }
    }
    prefilledHint.hidden = !ticked && !(frame.outcomes || []).length;
  }

  function openCloseDialog(chat) {
    closeFor = chat.summary.conversation_id;
    form.reset();
    error.hidden = true;
    prefilledHint.hidden = true;
    // Until the server answers, start from the visitor's choice of chat.
    prefill({ channel: chat.summary.channel, outcomes: [] });
    dialog.showModal();
    ctx.send({ type: "close_prefill", conversation_id: closeFor });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const qualification = { channel: checked("channel")[0], offence: checked("offence")[0], outcomes: checked("outcomes") };
    const missing = [];
    if (!qualification.channel) missing.push("channel");
    if (!qualification.offence) missing.push("offence");
    if (!qualification.outcomes.length) missing.push("outcomes");
    if (missing.length) {
      error.textContent = missing.length === 1 ? S[`casework.missing_${missing[0]}`] : S["casework.missing_all"];
      error.hidden = false;
      const first = form.querySelector(`input[name="${missing[0]}"]`);
      if (first) first.focus();
      return;
    }
    ctx.send({ type: "close", conversation_id: closeFor, qualification });
    dialog.close();
  });
}
