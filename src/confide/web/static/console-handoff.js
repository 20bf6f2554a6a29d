// Console feature: warm hand-offs to a psychologist, observers, and supervision of live
// conversations. See the extension points (`ctx`) in console.js.
//
// Officer: "Hand off to a psychologist" in a chat (note, stay as observer), then pending /
// cancel; once accepted, the chat is read-only with a "Leave" button, or released.
// Psychologist: a "Hand-off requests" panel (read the history, accept).
// Supervisor: a "Live conversations" panel (read, join, reassign).

const REQUEST = "staff:handoff:request";
const ACCEPT = "staff:handoff:accept";
const SUPERVISE = "supervisor:conversation:supervise";
const REFRESH_MS = 10_000;

export function install(ctx) {
  const { S, format } = ctx;
  let permissions = new Set();
  const pending = new Map(); // conversation_id -> handoff_id (asked by me)
  let handoffItems = []; // pending hand-offs shown to psychologists, with the time received
  let handoffsAt = Date.now();
  let handoffPanel = null;
  let supervisionPanel = null;
  let supervisionTimer = null;
  let refreshTimer = null;
  let reassignFor = null;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(className, text, onClick) {
    const node = el("button", className, text);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function describe(item) {
    const dept = item.departement || S["dept.unknown"];
    return `${S[`channel.${item.channel}`]} · ${S[`role.${item.role}`]} · ${dept}`;
  }

  function minutes(seconds) {
    return Math.max(0, Math.floor(seconds / 60));
  }

  // --- one chat: the officer's request, and read-only modes ---------------------------------

  function applyMode(chat) {
    const h = chat.handoff;
    const mode = chat.participation || "in_charge";
    const readOnly = mode === "observer" || mode === "reader";
    chat.el.classList.toggle("handoff-read-only", readOnly);
    chat.el.classList.toggle("handoff-not-in-charge", mode !== "in_charge");
    h.leave.hidden = mode === "in_charge" || chat.ended;
    h.leave.textContent = mode === "reader" ? S["handoff.close_history"] : S["observer.leave"];
    const asked = pending.has(chat.summary.conversation_id);
    h.request.hidden = !permissions.has(REQUEST) || mode !== "in_charge" || asked || chat.ended;
    h.cancel.hidden = !asked || mode !== "in_charge" || chat.ended;
    const notice = {
      observer: S["observer.notice"],
      member: S["supervision.member_notice"],
      reader: S["handoff.reading"],
    }[mode];
    if (asked && mode === "in_charge") h.status.textContent = S["handoff.pending"];
    else if (notice) h.status.textContent = notice;
    else if (h.lastMode !== mode) h.status.textContent = "";
    h.lastMode = mode;
    h.status.hidden = !h.status.textContent;
    h.accept.hidden = mode !== "reader" || !handoffFor(chat.summary.conversation_id);
  }

  function handoffFor(conversationId) {
    return handoffItems.find((item) => item.conversation_id === conversationId);
  }

  function say(chat, text) {
    const h = chat.handoff;
    h.status.textContent = text;
    h.status.hidden = false;
  }

  ctx.chatHooks.push((chat) => {
    const panels = chat.el.querySelector(".chat-panels");
    const id = chat.summary.conversation_id;
    const h = {};
    chat.handoff = h;
    h.request = button("secondary handoff-request", S["handoff.request"], () => openRequest(chat));
    h.request.hidden = true;
    h.leave = button("secondary observer-leave", S["observer.leave"], () => {
      chat.leaving = true;
      ctx.send({ type: "conversation_leave", conversation_id: id });
    });
    h.leave.hidden = true;
    ctx.addTool(chat, h.request, { rare: true });
    ctx.addTool(chat, h.leave);
    const box = el("div", "handoff-box");
    h.status = el("p", "handoff-status");
    h.status.setAttribute("role", "status");
    h.status.hidden = true;
    h.cancel = button("secondary handoff-cancel", S["handoff.cancel"], () => {
      const handoffId = pending.get(id);
      if (handoffId) ctx.send({ type: "handoff_cancel", handoff_id: handoffId });
    });
    h.cancel.hidden = true;
    h.accept = button("primary handoff-accept-chat", S["handoff.accept"], () => {
      const item = handoffFor(id);
      if (item) ctx.send({ type: "handoff_accept", handoff_id: item.handoff_id });
    });
    h.accept.hidden = true;
    box.append(h.status, h.cancel, h.accept);
    panels.append(box);
    applyMode(chat);
  });

  ctx.openedHooks.push((chat, frame) => {
    chat.participation = frame.participation || "in_charge";
    chat.releaseText = null;
    chat.leaving = false;
    applyMode(chat);
  });

  ctx.endHooks.push((chat) => {
    applyMode(chat);
    if (!chat.el.classList.contains("released")) return;
    // console.js writes a generic line for a release: say why, when this feature knows.
    let text = chat.releaseText;
    if (!text && chat.leaving) text = S["observer.left"];
    if (!text && chat.participation === "reader") text = S["handoff.released_reader"];
    if (!text) return;
    const lines = chat.el.querySelectorAll(".messages li.message.system");
    const last = lines[lines.length - 1];
    if (last) last.textContent = text;
  });

  // The request dialog.
  const dialog = el("dialog", "transfer-dialog handoff-dialog");
  dialog.setAttribute("aria-labelledby", "handoff-dialog-title");
  const form = el("form");
  form.method = "dialog";
  const title = el("h2", "", S["handoff.dialog_title"]);
  title.id = "handoff-dialog-title";
  const noteLabel = el("label", "", S["handoff.note"]);
  noteLabel.htmlFor = "handoff-note";
  const note = el("textarea");
  note.id = "handoff-note";
  note.rows = 3;
  note.maxLength = 1000;
  note.autocomplete = "off";
  const stayLabel = el("label", "check");
  const stay = el("input");
  stay.type = "checkbox";
  stay.id = "handoff-stay";
  stayLabel.append(stay, " ", S["handoff.stay"]);
  const actions = el("div", "dialog-actions");
  const cancel = button("secondary", S["staff.cancel"], () => dialog.close());
  const submit = el("button", "primary", S["handoff.send"]);
  submit.type = "submit";
  submit.id = "handoff-submit";
  actions.append(cancel, submit);
  form.append(title, noteLabel, note, stayLabel, actions);
  dialog.append(form);
  document.body.append(dialog);
  let requestFor = null;

  function openRequest(chat) {
    requestFor = chat.summary.conversation_id;
    note.value = "";
    stay.checked = false;
    dialog.showModal();
    note.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!requestFor) return;
    ctx.send({ type: "handoff_request", conversation_id: requestFor, note: note.value, stay: stay.checked });
    dialog.close();
  });

  ctx.handlers.set("handoff_pending", (frame) => {
    pending.set(frame.conversation_id, frame.handoff_id);
    const chat = ctx.chats.get(frame.conversation_id);
    if (chat) applyMode(chat);
  });

  ctx.handlers.set("handoff_cancelled", (frame) => {
    pending.delete(frame.conversation_id);
    const chat = ctx.chats.get(frame.conversation_id);
    if (chat) {
      applyMode(chat);
      say(chat, S["handoff.cancelled"]);
    }
  });

  ctx.handlers.set("handoff_accepted", (frame) => {
    pending.delete(frame.conversation_id);
    const chat = ctx.chats.get(frame.conversation_id);
    if (!chat) return;
    if (frame.stay) {
      chat.participation = "observer";
      applyMode(chat);
      say(chat, S["handoff.accepted_observer"]);
    } else {
      chat.releaseText = S["handoff.accepted_left"];
    }
  });

  ctx.handlers.set("reassigned_away", (frame) => {
    const chat = ctx.chats.get(frame.conversation_id);
    if (chat) chat.releaseText = S["supervision.released_reassigned"];
  });

  // --- psychologists: hand-off requests -----------------------------------------------------

  function makePanel(className, titleText) {
    const queuePanel = document.querySelector(".queue-panel");
    const section = el("section", `handoff-panel ${className}`);
    const heading = el("h2", "", titleText);
    heading.id = `${className}-title`;
    const count = el("span", "count", "0");
    heading.append(" ", count);
    section.setAttribute("aria-labelledby", heading.id);
    const list = el("ul", "queue-list handoff-list");
    section.append(heading, list);
    queuePanel.append(section);
    return { section, list, count };
  }

  function renderHandoffs() {
    if (!handoffPanel) return;
    const { list, count } = handoffPanel;
    count.textContent = String(handoffItems.length);
    list.replaceChildren();
    if (!handoffItems.length) list.append(el("li", "empty", S["handoff.none"]));
    const elapsed = (Date.now() - handoffsAt) / 1000;
    for (const item of handoffItems) {
      const li = el("li", "queue-item handoff-item");
      li.dataset.conversationId = item.conversation_id;
      li.dataset.handoffId = String(item.handoff_id);
      const text = el("span", "handoff-what", `${describe(item)} · ${format(S["handoff.requested_since"], { minutes: minutes(item.waiting_s + elapsed) })}`);
      const noteText = el("p", "handoff-note", item.note ? format(S["handoff.note_from"], { note: item.note }) : S["handoff.no_note"]);
      const buttons = el("div", "handoff-actions");
      const read = button("secondary handoff-read", S["handoff.read"], () => {
        const chat = ctx.chats.get(item.conversation_id);
        if (chat && !chat.ended) ctx.select(item.conversation_id);
        else ctx.send({ type: "open", conversation_id: item.conversation_id, after_seq: 0 });
      });
      const accept = button("primary handoff-accept", S["handoff.accept"], () => {
        accept.disabled = true;
        setTimeout(() => { accept.disabled = false; }, 3000);
        ctx.send({ type: "handoff_accept", handoff_id: item.handoff_id });
      });
      buttons.append(read, accept);
      li.append(text, noteText, buttons);
      list.append(li);
    }
    for (const chat of ctx.chats.values()) applyMode(chat);
  }

  function showHandoffs(items) {
    handoffItems = items || [];
    handoffsAt = Date.now();
    renderHandoffs();
  }

  ctx.handlers.set("handoffs", (frame) => showHandoffs(frame.items));
  ctx.handlers.set("handoffs_changed", () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => ctx.send({ type: "handoff_list" }), 100);
  });

  // --- supervisors: live conversations ------------------------------------------------------

  function renderLive(items) {
    if (!supervisionPanel) return;
    const { list, count } = supervisionPanel;
    count.textContent = String(items.length);
    list.replaceChildren();
    if (!items.length) list.append(el("li", "empty", S["supervision.none"]));
    for (const item of items) {
      const li = el("li", "queue-item live-item");
      li.dataset.conversationId = item.conversation_id;
      if (item.flags && item.flags.length) li.classList.add("flagged");
      const text = el("span", "live-what", describe(item));
      for (const flag of item.flags || []) {
        text.append(" ", el("span", "tag flag", S[`flag.${flag}`] || flag));
      }
      const who = item.in_charge && item.in_charge.display_name
        ? format(S["supervision.in_charge"], {
          name: item.in_charge.display_name,
          role: S[`author.${item.in_charge.role}`] || item.in_charge.role,
          minutes: minutes(item.since_s),
        })
        : S["supervision.unassigned"];
      const line = el("p", "live-who", who);
      const buttons = el("div", "handoff-actions");
      const open = (type) => () => {
        const chat = ctx.chats.get(item.conversation_id);
        if (type === "supervise_read" && chat && !chat.ended) ctx.select(item.conversation_id);
        else ctx.send({ type, conversation_id: item.conversation_id });
      };
      buttons.append(
        button("secondary live-read", S["supervision.read"], open("supervise_read")),
        button("secondary live-join", S["supervision.join"], open("supervise_join")),
      );
      if (!item.in_charge_is_me) {
        buttons.append(button("secondary live-reassign", S["supervision.reassign"], () => {
          reassignFor = item.conversation_id;
          ctx.send({ type: "reassign_targets", conversation_id: item.conversation_id });
        }));
      }
      li.append(text, line, buttons);
      list.append(li);
    }
  }

  function refreshLive() {
    clearTimeout(supervisionTimer);
    supervisionTimer = setTimeout(() => ctx.send({ type: "supervision_list" }), 150);
  }

  ctx.handlers.set("live_conversations", (frame) => renderLive(frame.items));
  ctx.handlers.set("queue_changed", () => { if (supervisionPanel) refreshLive(); });
  ctx.handlers.set("slot_freed", () => { if (supervisionPanel) refreshLive(); });
  ctx.handlers.set("reassigned", () => {
    ctx.$("queue-info").textContent = S["supervision.reassigned"];
    refreshLive();
  });

  // The reassign dialog.
  const rDialog = el("dialog", "transfer-dialog reassign-dialog");
  rDialog.setAttribute("aria-labelledby", "reassign-dialog-title");
  const rForm = el("form");
  rForm.method = "dialog";
  const rTitle = el("h2", "", S["supervision.reassign"]);
  rTitle.id = "reassign-dialog-title";
  const rLabel = el("label", "", S["supervision.reassign_to"]);
  rLabel.htmlFor = "reassign-staff";
  const rSelect = el("select");
  rSelect.id = "reassign-staff";
  const rEmpty = el("p", "form-error", S["supervision.no_target"]);
  rEmpty.hidden = true;
  const rNoteLabel = el("label", "", S["supervision.reassign_note"]);
  rNoteLabel.htmlFor = "reassign-note";
  const rNote = el("textarea");
  rNote.id = "reassign-note";
  rNote.rows = 3;
  rNote.maxLength = 1000;
  rNote.autocomplete = "off";
  const rActions = el("div", "dialog-actions");
  const rSubmit = el("button", "primary", S["supervision.reassign"]);
  rSubmit.type = "submit";
  rActions.append(button("secondary", S["staff.cancel"], () => rDialog.close()), rSubmit);
  rForm.append(rTitle, rLabel, rSelect, rEmpty, rNoteLabel, rNote, rActions);
  rDialog.append(rForm);
  document.body.append(rDialog);

  ctx.handlers.set("reassign_targets", (frame) => {
    if (frame.conversation_id !== reassignFor) return;
    rSelect.replaceChildren();
    for (const person of frame.staff) {
      const option = el("option", "", `${person.display_name} · ${S[`availability.${person.availability}`] || person.availability} · ${person.active}/${person.capacity}`);
      option.value = String(person.id);
      rSelect.append(option);
    }
    rEmpty.hidden = frame.staff.length > 0;
    rSubmit.disabled = !frame.staff.length;
    rNote.value = "";
    rDialog.showModal();
    rSelect.focus();
  });

  rForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const target = Number(rSelect.value);
    if (!reassignFor || !target) return;
    ctx.send({ type: "reassign", conversation_id: reassignFor, to_staff_id: target, note: rNote.value });
    rDialog.close();
  });

  // --- hello: permissions, panels, conversations followed -----------------------------------

  ctx.helloHooks.push((frame) => {
    permissions = new Set((frame.staff && frame.staff.permissions) || []);
    pending.clear();
    for (const item of frame.my_handoffs || []) pending.set(item.conversation_id, item.handoff_id);
    if (permissions.has(ACCEPT)) {
      if (!handoffPanel) {
        handoffPanel = makePanel("handoff-requests", S["handoff.requests"]);
        setInterval(renderHandoffs, 30_000);
      }
      showHandoffs(frame.handoffs);
    }
    if (permissions.has(SUPERVISE)) {
      if (!supervisionPanel) {
        supervisionPanel = makePanel("live-conversations", S["supervision.title"]);
        setInterval(() => ctx.send({ type: "supervision_list" }), REFRESH_MS);
      }
      ctx.send({ type: "supervision_list" });
    }
    // Conversations followed without being in charge come back after a reconnect.
    for (const item of frame.participations || []) {
      const chat = ctx.chats.get(item.conversation_id);
      ctx.send({ type: "open", conversation_id: item.conversation_id, after_seq: chat ? chat.lastSeq : 0 });
    }
    for (const chat of ctx.chats.values()) applyMode(chat);
  });
}
