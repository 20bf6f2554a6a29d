// A WebSocket that reconnects with backoff and reports its state:
// "connecting", "connected", "reconnecting" or "offline".

export class LiveSocket {
  constructor({ path, onOpen, onFrame, onState, onRefused }) {
    this.path = path;
    this.onOpen = onOpen;
    this.onFrame = onFrame;
    this.onState = onState;
    this.onRefused = onRefused;
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
    this.heartbeat = null;
    this.lastHeard = 0;
    // Back online: the old socket may be silently dead (a phone that changed network), so
    // start a fresh one; what was not acknowledged is resent, and resends are idempotent.
    window.addEventListener("online", () => this.restart());
    window.addEventListener("offline", () => this.setState("offline"));
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${this.path}`;
  }

  setState(state) {
    this.state = state;
    this.onState(state);
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.setState(this.attempt === 0 ? "connecting" : (navigator.onLine ? "reconnecting" : "offline"));
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.setState("connected");
      this.startHeartbeat(ws);
      this.onOpen();
    });
    ws.addEventListener("message", (event) => {
      this.lastHeard = Date.now();
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (event.code === 4401 || event.code === 4410) {
        this.stopped = true;
        if (this.onRefused) this.onRefused(event.code);
        return;
      }
      this.scheduleReconnect();
    });
  }

  // A ping every 20 s; no answer within 10 s more means the link is dead: reconnect.
  startHeartbeat(ws) {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (this.ws !== ws) { clearInterval(this.heartbeat); return; }
      if (Date.now() - this.lastHeard > 30000) { this.restart(); return; }
      this.send({ type: "ping" });
    }, 20000);
  }

  restart() {
    if (this.stopped) return;
    const old = this.ws;
    this.ws = null;
    clearInterval(this.heartbeat);
    if (old) old.close();
    this.attempt = Math.max(this.attempt, 1);
    this.connect();
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.attempt += 1;
    this.setState(navigator.onLine ? "reconnecting" : "offline");
    const base = Math.min(10000, 500 * 2 ** Math.min(this.attempt - 1, 5));
    this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}

export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function loadStrings() {
  return JSON.parse(document.getElementById("strings").textContent);
}

export function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
}

export function timeOf(iso, lang) {
  const date = new Date(iso);
  return date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
}
