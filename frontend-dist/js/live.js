// The live feed: one WebSocket per page, reconnecting with backoff and
// resuming from the last seen sequence number, so nothing is missed.
const PING_MS = 20000;
const PONG_TIMEOUT_MS = 45000;

export class LiveFeed {
  constructor() {
    this.lastSeq = null;
    this.ws = null;
    this.attempt = 0;
    this.state = 'idle'; // idle | connecting | online | offline
    this.nextRetryAt = 0;
    this.stopped = true;
    this.everOnline = false;
    this.eventListeners = new Set();
    this.frameListeners = new Set();
    this.stateListeners = new Set();
    this.timers = { ping: null, retry: null, watchdog: null };
    this.lastFrameAt = 0;
    this.onOnline = () => { if (this.state === 'offline') this.reconnectNow(); };
    this.onOffline = () => { if (this.ws) this.ws.close(); };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.clearTimers();
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.lastSeq = null;
    this.everOnline = false;
    this.setState('idle');
  }

  /** Events (`{type:'event', seq, event, ...}`), each delivered once, in order. */
  onEvent(fn) { this.eventListeners.add(fn); return () => this.eventListeners.delete(fn); }
  /** Other frames (`call.ringing`, `hello`). */
  onFrame(fn) { this.frameListeners.add(fn); return () => this.frameListeners.delete(fn); }
  onState(fn) { this.stateListeners.add(fn); return () => this.stateListeners.delete(fn); }

  setState(s, info = {}) {
    this.state = s;
    for (const fn of this.stateListeners) fn(s, { attempt: this.attempt, nextRetryAt: this.nextRetryAt, ...info });
  }

  clearTimers() {
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.retry);
    clearInterval(this.timers.watchdog);
    this.timers = { ping: null, retry: null, watchdog: null };
  }

  connect() {
    if (this.stopped) return;
    this.clearTimers();
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = this.lastSeq !== null ? `?since=${encodeURIComponent(this.lastSeq)}` : '';
    let ws;
    try {
      ws = new WebSocket(`${proto}//${location.host}/api/v1/live${since}`);
    } catch (_) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    if (!this.everOnline) this.setState('connecting');
    ws.onopen = () => {
      this.lastFrameAt = Date.now();
      this.timers.ping = setInterval(() => this.send({ type: 'ping' }), PING_MS);
      // A half-open connection (laptop lid, mobile handover) never fires
      // onclose by itself: drop it when the server goes quiet.
      this.timers.watchdog = setInterval(() => {
        if (Date.now() - this.lastFrameAt > PONG_TIMEOUT_MS) ws.close();
      }, 5000);
    };
    ws.onmessage = (m) => this.handle(m.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearTimers();
      if (this.stopped) return;
      this.scheduleRetry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  handle(raw) {
    this.lastFrameAt = Date.now();
    let f;
    try { f = JSON.parse(raw); } catch (_) { return; }
    if (!f || typeof f !== 'object') return;
    if (f.type === 'hello') {
      const wasOffline = this.state === 'offline';
      if (this.lastSeq === null && typeof f.head === 'number') this.lastSeq = f.head;
      this.attempt = 0;
      this.everOnline = true;
      this.setState('online', { resumed: wasOffline });
      for (const fn of this.frameListeners) fn(f);
      return;
    }
    if (f.type === 'event') {
      if (typeof f.seq === 'number') {
        if (this.lastSeq !== null && f.seq <= this.lastSeq) return; // already seen
        this.lastSeq = f.seq;
        // Visible to tests and to anyone debugging a station's feed.
        document.documentElement.dataset.liveSeq = String(f.seq);
      }
      for (const fn of this.eventListeners) {
        try { fn(f); } catch (e) { console.error(e); }
      }
      return;
    }
    if (f.type === 'pong') return;
    for (const fn of this.frameListeners) {
      try { fn(f); } catch (e) { console.error(e); }
    }
  }

  scheduleRetry() {
    this.attempt += 1;
    const base = Math.min(30000, 1000 * 2 ** Math.min(this.attempt - 1, 5));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.nextRetryAt = Date.now() + delay;
    this.setState('offline');
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped) return;
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.connect();
  }
}

export const live = new LiveFeed();
