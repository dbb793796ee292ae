// The OrderSaga dashboard's only script: no framework, no build step, no other origin.
//
// It reads the page the server rendered (<body data-page>), talks to the gateway's GraphQL
// API only (POST /graphql; subscriptions over a WebSocket at /graphql with the
// graphql-transport-ws protocol), and builds the DOM with textContent, never innerHTML, so
// that nothing an answer holds can become markup.
'use strict';

(() => {
  const TOKEN_KEY = 'ordersaga.token';
  const PAGE_SIZE = 50;
  const PHASES = ['Pending', 'Running', 'Completed', 'Compensating', 'Compensated', 'Failed'];
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- DOM and text helpers

  // h builds an element: h('a', {href: '/'}, 'text', child). Attributes that are null,
  // undefined or false are left out; "text" sets textContent, "on<event>" adds a listener.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c !== null && c !== undefined && c !== false && c !== '') el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  const orDash = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));
  const joinNonEmpty = (sep, ...parts) => parts.filter((p) => p).join(sep);
  const orderHref = (o) => `/orders/${encodeURIComponent(o.namespace)}/${encodeURIComponent(o.id)}`;
  const money = (amount, currency) => (amount ? `${amount} ${currency || ''}`.trim() : '—');

  // human rounds a duration as sagactl does: milliseconds below a minute, seconds above.
  function human(ms) {
    if (ms < 60000) {
      const r = Math.round(ms);
      if (r === 0) return '0s';
      return r < 1000 ? `${r}ms` : `${(r / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
    }
    let s = Math.round(ms / 1000);
    const hours = Math.floor(s / 3600);
    s -= hours * 3600;
    const minutes = Math.floor(s / 60);
    s -= minutes * 60;
    return (hours ? `${hours}h` : '') + (hours || minutes ? `${minutes}m` : '') + `${s}s`;
  }
  const ms = (iso) => Date.parse(iso);
  // iso8601 is the time in UTC with milliseconds, as sagactl prints it, or the text as it
  // came when it is not a time.
  const iso8601 = (iso) => (Number.isNaN(ms(iso)) ? String(iso) : new Date(iso).toISOString());
  const stamp = (iso) => (iso ? iso8601(iso) : '');
  const shortStamp = (iso) => (iso ? iso8601(iso).slice(0, 19).replace('T', ' ') : '');
  const clock = (iso) => (iso ? iso8601(iso).slice(11, 23) : '');
  const ago = (iso) => {
    const d = Date.now() - ms(iso);
    return d >= 0 ? `${coarse(d)} ago` : `in ${coarse(-d)}`;
  };
  // coarse rounds what the clock below rewrites every second: to 0.1 s, and to 1 s from 10 s.
  const coarse = (d) => human(d < 10000 ? Math.round(d / 100) * 100 : Math.round(d / 1000) * 1000);
  const span = (start, end) => {
    if (!start) return '';
    return end ? human(ms(end) - ms(start)) : `running ${coarse(Date.now() - ms(start))}`;
  };
  const nextIn = (iso) => {
    if (!iso) return '';
    const d = ms(iso) - Date.now();
    return d > 0 ? `in ${coarse(d)}` : 'due';
  };
  const LIVE = { span, next: nextIn, ago };

  // liveText is a span whose text the clock below keeps current ("in 1.2s", "running 3s").
  function liveText(kind, a, b) {
    return h('span', { 'data-live': kind, 'data-a': a || '', 'data-b': b || '' }, LIVE[kind](a || null, b || null));
  }
  setInterval(() => {
    if (document.hidden) return;
    for (const el of document.querySelectorAll('[data-live]')) {
      const v = LIVE[el.dataset.live](el.dataset.a || null, el.dataset.b || null);
      if (el.textContent !== v) el.textContent = v;
    }
  }, 1000);

  function timeEl(iso, text) {
    return iso ? h('time', { datetime: iso, title: stamp(iso) }, text) : '—';
  }

  function phaseBadge(phase) {
    return h('span', { class: `badge phase-${phase || 'none'}` }, phase || 'New');
  }

  // announce says something in the polite live region; unless urgent, at most every 3 s.
  let lastAnnounced = 0;
  function announce(msg, urgent) {
    const now = Date.now();
    if (!urgent && now - lastAnnounced < 3000) return;
    lastAnnounced = now;
    $('status').textContent = msg;
  }

  // ---------------------------------------------------------------- the token

  let memoryToken = '';
  const auth = {
    get() {
      try {
        return sessionStorage.getItem(TOKEN_KEY) || memoryToken;
      } catch {
        return memoryToken;
      }
    },
    set(t) {
      memoryToken = t;
      try {
        if (t) sessionStorage.setItem(TOKEN_KEY, t);
        else sessionStorage.removeItem(TOKEN_KEY);
      } catch {
        // storage is off: the token lasts as long as this page
      }
    },
  };

  let reloadPage = () => {};

  function showSignIn(reason) {
    const box = $('sign-in');
    const opening = box.hidden;
    $('sign-in-reason').textContent = reason ||
      'The gateway needs a ServiceAccount token. make run-local prints one.';
    box.hidden = false;
    $('sign-in-open').hidden = true;
    if (opening) $('token').focus();
  }

  function updateSessionButtons() {
    const signedIn = Boolean(auth.get());
    $('sign-out').hidden = !signedIn;
    $('sign-in-open').hidden = signedIn || !$('sign-in').hidden;
  }

  function setViewer(v) {
    $('viewer').textContent = v ? `${v.username} · ${v.namespace}` : '';
  }

  function initSession() {
    $('sign-in-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim().replace(/^Bearer\s+/i, '');
      if (!t) {
        showSignIn('Paste the token into the field first.');
        return;
      }
      auth.set(t);
      $('token').value = '';
      $('sign-in').hidden = true;
      updateSessionButtons();
      announce('Signed in.', true);
      live.restart();
      reloadPage();
    });
    $('sign-out').addEventListener('click', () => {
      auth.set('');
      setViewer(null);
      live.restart();
      updateSessionButtons();
      showSignIn('Signed out. Paste a token to sign in again.');
    });
    $('sign-in-open').addEventListener('click', () => showSignIn());
    updateSessionButtons();
  }

  // ---------------------------------------------------------------- GraphQL over HTTP

  class ApiError extends Error {
    constructor(message, code, errors) {
      super(message);
      this.code = code;
      this.errors = errors || [];
    }
  }
  const codeOf = (e) => (e && e.extensions ? e.extensions.code : undefined);
  const isUnauthenticated = (e) => codeOf(e) === 'UNAUTHENTICATED';

  function noteUnauthenticated(errors) {
    const e = (errors || []).find(isUnauthenticated);
    if (e) {
      showSignIn(`${e.message || 'The token was refused.'} Paste a ServiceAccount token; make run-local prints one.`);
      updateSessionButtons();
    }
    return Boolean(e);
  }

  // gql runs one operation and returns {data, errors}; it throws an ApiError only when the
  // answer is not GraphQL at all. An UNAUTHENTICATED error opens the sign-in form.
  async function gql(query, variables) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    const token = auth.get();
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch('/graphql', {
        method: 'POST', headers, body: JSON.stringify({ query, variables: variables || {} }),
        credentials: 'omit', cache: 'no-store',
      });
    } catch (e) {
      throw new ApiError(`The gateway did not answer (${e.message}).`, 'NETWORK');
    }
    let payload = null;
    try {
      payload = await res.json();
    } catch {
      // not JSON: handled below
    }
    if (!payload || typeof payload !== 'object' || (!('data' in payload) && !Array.isArray(payload.errors))) {
      if (res.status === 401) {
        noteUnauthenticated([{ message: 'The gateway refused the token.', extensions: { code: 'UNAUTHENTICATED' } }]);
        throw new ApiError('Sign in to continue.', 'UNAUTHENTICATED');
      }
      throw new ApiError(`The gateway answered ${res.status} ${res.statusText}`.trim() + '.', 'HTTP');
    }
    const errors = Array.isArray(payload.errors) ? payload.errors : [];
    noteUnauthenticated(errors);
    return { data: payload.data || null, errors };
  }

  // gqlAll is gql for operations that are all or nothing: any error throws.
  async function gqlAll(query, variables) {
    const r = await gql(query, variables);
    if (r.errors.length) throw new ApiError(r.errors[0].message, codeOf(r.errors[0]), r.errors);
    return r.data;
  }

  // ---------------------------------------------------------------- subscriptions

  // Live multiplexes subscriptions over one graphql-transport-ws socket. The socket opens
  // with the first subscription; a dropped socket reconnects with capped, jittered
  // exponential backoff and subscribes again to everything still wanted.
  class Live {
    constructor() {
      this.subs = new Map();
      this.nextId = 1;
      this.ws = null;
      this.acked = false;
      this.failures = 0;
      this.timer = 0;
      this.ackTimer = 0;
      this.probing = false;
    }

    // subscribe starts an operation; handlers: next(payload), error(errors), complete(),
    // and resumed() after a reconnect (what happened meanwhile was missed). It returns
    // the function that stops it.
    subscribe(query, variables, handlers) {
      const id = String(this.nextId++);
      this.subs.set(id, { query, variables, handlers, started: false });
      if (this.acked) this.start(id);
      else if (!this.ws && !this.timer && !this.probing) this.connect();
      return () => {
        const s = this.subs.get(id);
        if (!s) return;
        this.subs.delete(id);
        if (this.acked && s.started) this.send({ id, type: 'complete' });
      };
    }

    start(id) {
      const s = this.subs.get(id);
      const resumed = s.everStarted;
      s.started = s.everStarted = true;
      this.send({ id, type: 'subscribe', payload: { query: s.query, variables: s.variables } });
      if (resumed && s.handlers.resumed) s.handlers.resumed();
    }

    connect() {
      const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
      let ws;
      try {
        ws = new WebSocket(url, 'graphql-transport-ws');
      } catch {
        this.retryLater();
        return;
      }
      this.ws = ws;
      this.acked = false;
      this.show('Connecting…');
      ws.onopen = () => {
        const token = auth.get();
        ws.send(JSON.stringify({ type: 'connection_init', payload: token ? { Authorization: `Bearer ${token}` } : {} }));
        this.ackTimer = setTimeout(() => ws.close(4408, 'Connection initialisation timeout'), 10000);
      };
      ws.onmessage = (ev) => this.receive(ws, ev.data);
      ws.onclose = (ev) => this.closed(ws, ev);
    }

    receive(ws, raw) {
      let msg;
      try {
        msg = JSON.parse(raw);
      } catch {
        ws.close(4400, 'Invalid message');
        return;
      }
      const s = msg.id ? this.subs.get(msg.id) : undefined;
      switch (msg.type) {
        case 'connection_ack':
          clearTimeout(this.ackTimer);
          this.acked = true;
          this.failures = 0;
          this.show('Live');
          for (const id of this.subs.keys()) this.start(id);
          break;
        case 'ping':
          this.send(msg.payload === undefined ? { type: 'pong' } : { type: 'pong', payload: msg.payload });
          break;
        case 'next':
          if (s) s.handlers.next(msg.payload || {});
          break;
        case 'error':
          this.subs.delete(msg.id);
          if (s) {
            noteUnauthenticated(msg.payload);
            if (s.handlers.error) s.handlers.error(Array.isArray(msg.payload) ? msg.payload : [msg.payload]);
          }
          break;
        case 'complete':
          this.subs.delete(msg.id);
          if (s && s.handlers.complete) s.handlers.complete();
          break;
        default: // pong and anything newer: nothing to do
      }
    }

    closed(ws, ev) {
      clearTimeout(this.ackTimer);
      if (ws !== this.ws) return;
      const wasAcked = this.acked;
      this.ws = null;
      this.acked = false;
      for (const s of this.subs.values()) s.started = false;
      if (ev.code === 4401 || ev.code === 4403) {
        // the token was refused: wait for a sign-in (live.restart) instead of hammering
        this.show('Offline');
        noteUnauthenticated([{ message: ev.reason || 'The gateway refused the token for live updates.', extensions: { code: 'UNAUTHENTICATED' } }]);
        return;
      }
      if (this.subs.size === 0) {
        this.show('');
        return;
      }
      if (!wasAcked) {
        this.probe();
        return;
      }
      this.retryLater();
    }

    // probe asks over HTTP whether the token still holds after a socket that closed before
    // its acknowledgement: a refused token waits for a sign-in, anything else reconnects.
    async probe() {
      this.probing = true;
      let refused = false;
      try {
        const r = await gql('query Probe { viewer { username } }');
        refused = r.errors.some(isUnauthenticated);
      } catch (e) {
        refused = e.code === 'UNAUTHENTICATED';
      }
      if (!this.probing) return; // restarted meanwhile
      this.probing = false;
      if (refused) this.show('Offline');
      else this.retryLater();
    }

    retryLater() {
      const delay = Math.min(30000, 500 * 2 ** this.failures) * (0.5 + Math.random() / 2);
      this.failures++;
      this.show(`Reconnecting in ${Math.ceil(delay / 1000)} s`);
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.connect();
      }, delay);
    }

    // restart drops the socket and opens a new one with the current token.
    restart() {
      clearTimeout(this.timer);
      this.timer = 0;
      this.probing = false;
      this.failures = 0;
      if (this.ws) {
        const ws = this.ws;
        this.ws = null;
        ws.close(1000, 'Normal Closure');
      }
      this.acked = false;
      for (const s of this.subs.values()) s.started = false;
      if (this.subs.size) this.connect();
    }

    send(msg) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
    }

    show(state) {
      const el = $('conn');
      el.hidden = !state;
      el.textContent = state ? `Live updates: ${state}` : '';
    }
  }
  const live = new Live();

  // ---------------------------------------------------------------- the list page

  const ROW = `fragment Row on Order {
    id namespace customerId createdAt total currency
    saga { phase currentStep nextAttemptAt steps { name attempts compensation { attempts } } }
  }`;
  const LIST_QUERY = `query Orders($ns: String, $phase: Phase, $customer: String, $retrying: Boolean, $first: Int, $after: String) {
    orders(namespace: $ns, phase: $phase, customerId: $customer, retrying: $retrying, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { ...Row } }
    }
    phaseCounts(namespace: $ns) { phase count }
    viewer(namespace: $ns) { username namespace canListOrders canPlaceOrders }
  } ${ROW}`;
  const COUNTS_QUERY = `query Counts($ns: String, $phase: Phase, $customer: String, $retrying: Boolean) {
    phaseCounts(namespace: $ns) { phase count }
    orders(namespace: $ns, phase: $phase, customerId: $customer, retrying: $retrying, first: 1) { totalCount }
  }`;
  const CHANGES = `subscription Changes($ns: String) { ordersChanged(namespace: $ns) { id order { ...Row } } } ${ROW}`;

  // attemptsCell is the attempts of the current step (of its compensation while rolling
  // back), and when the next one is due.
  function attemptsCell(s) {
    const step = (s.steps || []).find((x) => x.name === s.currentStep);
    let n = step ? step.attempts : 0;
    if (step && step.compensation && (s.phase === 'Compensating' || s.phase === 'Failed')) n = step.compensation.attempts;
    if (s.nextAttemptAt) return h('span', {}, n ? `${n}, next ` : 'next ', liveText('next', s.nextAttemptAt));
    return n ? String(n) : '—';
  }

  function rowFor(o) {
    const s = o.saga || {};
    return h('tr', { 'data-id': o.id },
      h('th', { scope: 'row' }, h('a', { href: orderHref(o) }, o.id)),
      h('td', {}, o.customerId),
      h('td', {}, phaseBadge(s.phase)),
      h('td', {}, orDash(s.currentStep)),
      h('td', { class: 'num' }, money(o.total, o.currency)),
      h('td', { class: 'nowrap' }, timeEl(o.createdAt, shortStamp(o.createdAt))),
      h('td', {}, attemptsCell(s)));
  }

  function readFilters(params) {
    return {
      phase: PHASES.includes(params.get('phase')) ? params.get('phase') : '',
      customer: (params.get('customer') || '').trim(),
      retrying: params.get('retrying') === '1',
    };
  }

  function matches(o, f) {
    const s = o.saga || {};
    return (!f.phase || s.phase === f.phase) && (!f.customer || o.customerId === f.customer) &&
      (!f.retrying || Boolean(s.nextAttemptAt));
  }

  function listPage() {
    const params = new URLSearchParams(location.search);
    const st = {
      ns: params.get('namespace') || null, filters: readFilters(params), after: params.get('after') || null,
      back: [], rows: new Map(), newest: 0, inserted: 0, pending: new Map(), flushTimer: 0, firstPending: 0,
      countsTimer: 0, countsAt: 0, stop: null, loading: 0,
    };
    const form = $('filters');

    const vars = (extra) => ({
      ns: st.ns, phase: st.filters.phase || null, customer: st.filters.customer || null,
      retrying: st.filters.retrying ? true : null, ...extra,
    });

    function url(filters, after) {
      const q = new URLSearchParams();
      if (st.ns) q.set('namespace', st.ns);
      if (filters.phase) q.set('phase', filters.phase);
      if (filters.customer) q.set('customer', filters.customer);
      if (filters.retrying) q.set('retrying', '1');
      if (after) q.set('after', after);
      const s = q.toString();
      return s ? `/?${s}` : '/';
    }

    function showForm() {
      $('f-phase').value = st.filters.phase;
      $('f-customer').value = st.filters.customer;
      $('f-retrying').checked = st.filters.retrying;
    }

    function go(filters, after, back) {
      st.filters = filters;
      st.after = after;
      st.back = back;
      history.pushState(null, '', url(filters, after));
      showForm();
      load();
    }

    function renderCounts(counts) {
      const by = new Map(counts.map((c) => [c.phase, c.count]));
      const total = counts.reduce((n, c) => n + c.count, 0);
      const link = (phase, label, n) => h('a', {
        href: url({ ...st.filters, phase }, null), class: `badge ${phase ? `phase-${phase}` : ''}`,
        'aria-current': st.filters.phase === phase ? 'true' : null,
        onclick: (ev) => {
          ev.preventDefault();
          go({ ...st.filters, phase }, null, []);
        },
      }, label, h('span', { class: 'count' }, n.toLocaleString('en')), h('span', { class: 'visually-hidden' }, n === 1 ? ' order' : ' orders'));
      const ul = $('counts');
      ul.replaceChildren(h('li', {}, link('', 'All', total)), ...PHASES.map((p) => h('li', {}, link(p, p, by.get(p) || 0))));
      ul.removeAttribute('aria-busy');
    }

    function renderSummary(total, shown) {
      const first = st.back.length * PAGE_SIZE;
      const range = shown ? `${(first + 1).toLocaleString('en')}–${(first + shown).toLocaleString('en')} of ` : '';
      const filtered = st.filters.phase || st.filters.customer || st.filters.retrying ? ' matching the filters' : '';
      const where = st.ns ? ` in namespace ${st.ns}` : '';
      $('list-summary').textContent = shown || total
        ? `Orders ${range}${total.toLocaleString('en')}${filtered}${where}, newest first.`
        : `No orders${filtered}${where}.`;
    }

    async function load() {
      const mine = ++st.loading;
      $('orders').setAttribute('aria-busy', 'true');
      let data;
      try {
        data = await gqlAll(LIST_QUERY, vars({ first: PAGE_SIZE, after: st.after }));
      } catch (e) {
        if (mine !== st.loading) return;
        $('orders').removeAttribute('aria-busy');
        const err = $('list-error');
        err.textContent = e.code === 'UNAUTHENTICATED' ? 'Sign in to see the orders.' : `The orders could not be loaded: ${e.message}`;
        err.hidden = false;
        return;
      }
      if (mine !== st.loading) return;
      $('list-error').hidden = true;
      setViewer(data.viewer);
      renderCounts(data.phaseCounts);
      const edges = data.orders.edges;
      st.rows = new Map();
      st.inserted = 0;
      st.newest = edges.length ? ms(edges[0].node.createdAt) : 0;
      const rows = edges.map((e) => {
        const tr = rowFor(e.node);
        st.rows.set(e.node.id, tr);
        return tr;
      });
      $('orders-body').replaceChildren(...rows);
      $('orders').removeAttribute('aria-busy');
      $('show-newest').hidden = true;
      renderSummary(data.orders.totalCount, edges.length);
      const info = data.orders.pageInfo;
      $('next-page').disabled = !info.hasNextPage;
      $('next-page').onclick = () => go(st.filters, info.endCursor, [...st.back, st.after]);
      $('prev-page').disabled = !st.after;
      $('first-page').disabled = !st.after;
      subscribe();
    }

    function subscribe() {
      if (st.stop) return;
      st.stop = live.subscribe(CHANGES, { ns: st.ns }, {
        next: (p) => {
          const c = p.data && p.data.ordersChanged;
          if (c) queue(c);
        },
        error: (errs) => {
          st.stop = null;
          announce(`Live updates stopped: ${errs.map((e) => e.message).join('; ')}`, true);
        },
        complete: () => {
          st.stop = null;
        },
        resumed: () => load(),
      });
    }

    // queue collects changes; they are applied at most 250 ms after the last one and at
    // least once a second while they keep coming, so a busy shop cannot stall the page.
    function queue(change) {
      st.pending.set(change.id, change.order || null);
      const now = Date.now();
      if (!st.firstPending) st.firstPending = now;
      clearTimeout(st.flushTimer);
      st.flushTimer = setTimeout(flush, Math.max(0, Math.min(250, st.firstPending + 1000 - now)));
    }

    function flush() {
      st.firstPending = 0;
      const changes = [...st.pending];
      st.pending.clear();
      const n = { updated: 0, added: 0, removed: 0, more: 0 };
      for (const [id, o] of changes) applyChange(id, o, n);
      if (n.more) $('show-newest').hidden = false;
      const parts = [];
      if (n.added) parts.push(`${n.added} new`);
      if (n.updated) parts.push(`${n.updated} updated`);
      if (n.removed) parts.push(`${n.removed} no longer shown`);
      if (parts.length) announce(`Orders: ${parts.join(', ')}.`);
      refreshCountsSoon();
    }

    // applyChange updates a shown row in place, drops it when it no longer matches, or
    // inserts a new matching order at the top of the first page (up to one page of them;
    // beyond that a button offers the newest).
    function applyChange(id, o, n) {
      const tr = st.rows.get(id);
      if (tr) {
        if (!o || !matches(o, st.filters)) {
          tr.remove();
          st.rows.delete(id);
          n.removed++;
          return;
        }
        const fresh = rowFor(o);
        fresh.classList.add('flash');
        tr.replaceWith(fresh);
        st.rows.set(id, fresh);
        n.updated++;
        return;
      }
      if (!o || st.after || !matches(o, st.filters) || ms(o.createdAt) < st.newest) return;
      if (st.inserted >= PAGE_SIZE) {
        n.more++;
        return;
      }
      const fresh = rowFor(o);
      fresh.classList.add('flash');
      $('orders-body').prepend(fresh);
      st.rows.set(id, fresh);
      st.inserted++;
      st.newest = Math.max(st.newest, ms(o.createdAt));
      n.added++;
    }

    // refreshCountsSoon asks for the counts again, at most every 2 s.
    function refreshCountsSoon() {
      if (st.countsTimer) return;
      const wait = Math.max(200, st.countsAt + 2000 - Date.now());
      st.countsTimer = setTimeout(async () => {
        st.countsAt = Date.now();
        try {
          const d = await gqlAll(COUNTS_QUERY, vars({}));
          renderCounts(d.phaseCounts);
          renderSummary(d.orders.totalCount, st.rows.size);
        } catch {
          // the next change tries again
        } finally {
          st.countsTimer = 0;
        }
      }, wait);
    }

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      go(readFilters(new URLSearchParams(new FormData(form))), null, []);
    });
    $('f-clear').addEventListener('click', () => go({ phase: '', customer: '', retrying: false }, null, []));
    $('prev-page').addEventListener('click', () => {
      const back = st.back.slice(0, -1);
      go(st.filters, st.back.length ? st.back[st.back.length - 1] : null, back);
    });
    $('first-page').addEventListener('click', () => go(st.filters, null, []));
    $('show-newest').addEventListener('click', () => go(st.filters, null, []));
    window.addEventListener('popstate', () => {
      const q = new URLSearchParams(location.search);
      st.filters = readFilters(q);
      st.after = q.get('after') || null;
      st.back = [];
      showForm();
      load();
    });
    showForm();
    load();
    return load;
  }

  // ---------------------------------------------------------------- the order page

  const CALL = 'fragment CallF on Call { state attempts startedAt finishedAt nextAttemptAt lastError }';
  const FULL = `fragment Full on Order {
    id namespace customerId createdAt currency total paymentMethod shippingMethod cancellable retryable
    items { productId quantity unitPrice }
    saga {
      phase currentStep message startedAt finishedAt deleting nextAttemptAt
      steps { name state attempts startedAt finishedAt nextAttemptAt lastError compensation { ...CallF } }
      failure { step reason message }
      cancellationNotice { ...CallF }
      abandoned { name state resourceId compensationError }
    }
    record { id status total currency }
    payment { id status amount currency }
    shipment { id status carrier trackingNumber estimatedDelivery }
    notices { id type status }
    events { type reason message count lastSeen }
  } ${CALL}`;
  const ORDER_QUERY = `query Order($id: ID!, $ns: String) {
    order(id: $id, namespace: $ns) { ...Full }
    viewer(namespace: $ns) { username namespace canRetryOrders canCancelOrders }
  } ${FULL}`;
  const ORDER_LIVE = `subscription OrderLive($id: ID!, $ns: String) { orderUpdated(id: $id, namespace: $ns) { ...Full } } ${FULL}`;
  const RETRY = `mutation Retry($id: ID!, $ns: String) { retryOrder(id: $id, namespace: $ns) { ...Full } } ${FULL}`;
  const CANCEL = `mutation Cancel($id: ID!, $ns: String) { cancelOrder(id: $id, namespace: $ns) { ...Full } } ${FULL}`;

  const COMPENSATIONS = {
    CreateOrder: 'cancel order', ReserveInventory: 'release stock',
    ProcessPayment: 'refund payment', ScheduleShipment: 'cancel shipment',
  };
  const STEP_ICONS = { Succeeded: '✔', Failed: '✖', Running: '●', Compensating: '●', Compensated: '↺', Skipped: '-' };
  const CALL_ICONS = { Succeeded: '✔', Failed: '✖', Running: '●' };

  function section(id, title, ...content) {
    return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...content);
  }

  function table(caption, headers, rows, cls) {
    return h('div', { class: 'table-wrap' }, h('table', { class: cls || null },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows)));
  }

  function facts(pairs) {
    return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  // callCells are the columns of a step or a compensation, as sagactl describe prints them.
  function callCells(c) {
    return [
      h('td', {}, c.state),
      h('td', { class: 'num' }, c.attempts ? String(c.attempts) : ''),
      h('td', { class: 'nowrap' }, c.startedAt ? timeEl(c.startedAt, clock(c.startedAt)) : ''),
      h('td', { class: 'nowrap' }, liveText('span', c.startedAt, c.finishedAt)),
      h('td', { class: 'nowrap' }, c.nextAttemptAt ? liveText('next', c.nextAttemptAt) : ''),
      h('td', { class: 'err-text' }, c.lastError || ''),
    ];
  }

  function timelineSection(s) {
    if (!s.steps.length && !s.cancellationNotice) return section('timeline-title', 'Timeline', h('p', {}, 'No step has started yet.'));
    const rows = [];
    for (const step of s.steps) {
      rows.push(h('tr', { class: 'step', 'data-step': step.name },
        h('th', { scope: 'row' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, STEP_ICONS[step.state] || '○'), step.name),
        callCells(step)));
      const c = step.compensation;
      if (c) {
        rows.push(h('tr', { class: 'compensation', 'data-compensation': step.name },
          h('th', { scope: 'row' }, h('span', { 'aria-hidden': 'true' }, '└ '),
            h('span', { class: 'icon', 'aria-hidden': 'true' }, CALL_ICONS[c.state] || '○'),
            h('span', { class: 'visually-hidden' }, `Compensation of ${step.name}: `),
            COMPENSATIONS[step.name] || `undo ${step.name}`),
          callCells(c)));
      }
    }
    const n = s.cancellationNotice;
    if (n) {
      rows.push(h('tr', { class: 'compensation', 'data-compensation': 'cancellation notice' },
        h('th', { scope: 'row' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, CALL_ICONS[n.state] || '○'), 'cancellation notice'),
        callCells(n)));
    }
    return section('timeline-title', 'Timeline', table('Steps and their compensations, in plan order',
      ['Step', 'State', 'Attempts', 'Started (UTC)', 'Duration', 'Next attempt', 'Last error'], rows, 'timeline'));
  }

  function abandonedSection(s) {
    if (!s.abandoned || !s.abandoned.length) return null;
    return section('abandoned-title', 'Abandoned steps',
      h('p', { class: 'notice' }, 'The saga was abandoned: these steps were left undone, and what they hold is still held.'),
      table('Steps left undone', ['Step', 'State', 'Resource', 'Compensation error'], s.abandoned.map((a) => h('tr', {},
        h('th', { scope: 'row' }, a.name), h('td', {}, a.state), h('td', { class: 'mono' }, orDash(a.resourceId)),
        h('td', { class: 'err-text' }, a.compensationError || '')))));
  }

  function eventsSection(o, fieldErrors) {
    const err = fieldErrors.get('events');
    if (err) return section('events-title', 'Events', unavailable(err));
    if (!o.events || !o.events.length) return section('events-title', 'Events', h('p', {}, 'No events. A saga that goes straight through records none; retries, rollbacks and failures do. The API server keeps Events for an hour.'));
    return section('events-title', 'Events', table('Events about the saga, oldest first',
      ['Type', 'Reason', 'Message', 'Count', 'Last seen (UTC)'], o.events.map((e) => h('tr', {},
        h('td', { class: `type-${e.type}` }, e.type), h('th', { scope: 'row' }, e.reason), h('td', {}, e.message),
        h('td', { class: 'num' }, String(e.count)),
        h('td', { class: 'nowrap' }, timeEl(e.lastSeen, stamp(e.lastSeen)), ' (', liveText('ago', e.lastSeen), ')')))));
  }

  function unavailable(err) {
    return h('p', { class: 'unavailable' }, h('strong', {}, 'Unavailable'), err.message || 'The service did not answer.');
  }

  // serviceCard shows what one service knows: its answer, "unavailable" with the error when
  // the field failed, or what an empty answer means.
  function serviceCard(key, title, value, fieldErrors, show, empty) {
    const err = fieldErrors.get(key);
    let content;
    if (value !== null && value !== undefined) content = show(value);
    else if (err) content = unavailable(err);
    else content = h('p', { class: 'muted' }, empty);
    return h('section', { class: 'card', 'aria-labelledby': `svc-${key}`, 'data-service': key }, h('h3', { id: `svc-${key}` }, title), content);
  }

  function servicesSection(o, fe) {
    return section('services-title', 'What the services know', h('div', { class: 'services' },
      serviceCard('record', 'Order record', o.record, fe, (r) => facts([
        ['Status', r.status], ['Total', money(r.total, r.currency)], ['ID', h('span', { class: 'mono' }, r.id)]]),
      'No order record: the order service keeps one from CreateOrder on.'),
      serviceCard('payment', 'Payment', o.payment, fe, (p) => facts([
        ['Status', p.status], ['Amount', money(p.amount, p.currency)], ['ID', h('span', { class: 'mono' }, p.id)]]),
      'No payment.'),
      serviceCard('shipment', 'Shipment', o.shipment, fe, (s) => facts([
        ['Status', s.status], ['Carrier', orDash(s.carrier)], ['Tracking', orDash(s.trackingNumber)],
        ['Estimated delivery', orDash(s.estimatedDelivery)], ['ID', h('span', { class: 'mono' }, s.id)]]),
      'No shipment.'),
      serviceCard('notices', 'Notices', o.notices, fe, (list) => (list.length
        ? h('ul', {}, list.map((n) => h('li', {}, `${n.type}: ${n.status}`)))
        : h('p', { class: 'muted' }, 'None sent.')), 'None sent.')));
  }

  function overviewSection(o) {
    const s = o.saga;
    const f = s.failure;
    const items = table('Items', ['Product', 'Quantity', 'Unit price'], o.items.map((it) => h('tr', {},
      h('th', { scope: 'row', class: 'mono' }, it.productId), h('td', { class: 'num' }, String(it.quantity)),
      h('td', { class: 'num' }, money(it.unitPrice, o.currency)))));
    return section('summary-title', 'Summary', h('div', { class: 'overview' },
      h('div', {},
        s.message ? h('p', { class: 'message', id: 'saga-message' }, s.message) : null,
        f ? h('p', { class: 'failure', id: 'saga-failure' }, h('strong', {}, 'Failure: '),
          joinNonEmpty(': ', joinNonEmpty(' ', f.step, f.reason), f.message)) : null,
        items),
      facts([
        ['Customer', o.customerId],
        ['Created', timeEl(o.createdAt, stamp(o.createdAt))],
        ['Started', s.startedAt ? timeEl(s.startedAt, stamp(s.startedAt)) : null],
        ['Finished', s.finishedAt ? timeEl(s.finishedAt, stamp(s.finishedAt)) : null],
        ['Duration', s.startedAt ? liveText('span', s.startedAt, s.finishedAt) : null],
        ['Current step', s.currentStep],
        ['Next attempt', s.nextAttemptAt ? liveText('next', s.nextAttemptAt) : null],
        ['Total', money(o.total, o.currency)],
        ['Payment method', o.paymentMethod],
        ['Shipping method', o.shippingMethod],
      ])));
  }

  function orderPage() {
    const ns = document.body.dataset.namespace;
    const id = document.body.dataset.id;
    const st = { order: null, viewer: null, fieldErrors: new Map(), stop: null, busy: false, refresh: 0 };

    function alertMsg(text) {
      const el = $('order-alert');
      el.textContent = text || '';
      el.hidden = !text;
    }

    function renderActions() {
      const o = st.order;
      const v = st.viewer || {};
      $('actions').hidden = false;
      const canRetry = Boolean(o.retryable && v.canRetryOrders);
      $('retry').disabled = !canRetry || st.busy;
      let why = '';
      if (!o.retryable) why = 'Only a Failed order can be retried.';
      else if (!v.canRetryOrders) why = 'You may not retry orders in this namespace.';
      $('retry-why').textContent = why;
      const canCancel = Boolean(o.cancellable && v.canCancelOrders);
      if (!canCancel) $('cancel-confirm').hidden = true;
      $('cancel').hidden = !canCancel || !$('cancel-confirm').hidden;
      $('cancel').disabled = st.busy;
      $('cancel-yes').disabled = st.busy;
    }

    function render() {
      const o = st.order;
      const s = o.saga;
      const badge = $('phase');
      badge.className = `badge phase-${s.phase}`;
      badge.textContent = s.phase;
      badge.hidden = false;
      $('deleting').hidden = !s.deleting;
      renderActions();
      const view = $('order-view');
      view.replaceChildren(...[overviewSection(o), timelineSection(s), abandonedSection(s),
        servicesSection(o, st.fieldErrors), eventsSection(o, st.fieldErrors)].filter(Boolean));
      view.removeAttribute('aria-busy');
    }

    // update shows an order from a query, a mutation or the subscription; root is the
    // field the answer came in, for the paths of its errors.
    function update(order, errors, root) {
      const fe = new Map();
      for (const e of errors || []) {
        if (Array.isArray(e.path) && e.path[0] === root && e.path.length >= 2 && !fe.has(e.path[1])) fe.set(e.path[1], e);
      }
      const before = st.order ? st.order.saga.phase : null;
      st.order = order;
      st.fieldErrors = fe;
      render();
      if (before && before !== order.saga.phase) announce(`Order ${id} is now ${order.saga.phase}.`, true);
    }

    function showMissing(errors) {
      const e = errors[0];
      let text = `No order ${id} in namespace ${ns}.`;
      if (e && isUnauthenticated(e)) text = 'Sign in to see this order.';
      else if (e && codeOf(e) !== 'NOT_FOUND') text = `The order could not be loaded: ${e.message}`;
      $('order-view').replaceChildren(h('p', { class: 'error' }, text));
      $('order-view').removeAttribute('aria-busy');
    }

    async function load() {
      let r;
      try {
        r = await gql(ORDER_QUERY, { id, ns });
      } catch (e) {
        showMissing([{ message: e.message, extensions: { code: e.code } }]);
        return;
      }
      if (r.data && r.data.viewer) {
        st.viewer = r.data.viewer;
        setViewer(st.viewer);
      }
      const o = r.data && r.data.order;
      if (!o) {
        showMissing(r.errors);
        return;
      }
      update(o, r.errors, 'order');
      subscribe();
    }

    function subscribe() {
      if (st.stop) return;
      st.stop = live.subscribe(ORDER_LIVE, { id, ns }, {
        next: (p) => {
          const o = p.data && p.data.orderUpdated;
          if (o) {
            update(o, p.errors, 'orderUpdated');
            refreshSoon();
          } else if (p.errors && p.errors.length) {
            alertMsg(`Live update failed: ${p.errors[0].message}`);
          }
        },
        error: (errs) => {
          st.stop = null;
          alertMsg(`Live updates stopped: ${errs.map((e) => e.message).join('; ')}`);
        },
        complete: () => {
          st.stop = null;
          alertMsg('This saga is gone: it was deleted. The page shows it as it was last seen.');
          if (st.order) {
            st.order = { ...st.order, cancellable: false, retryable: false };
            renderActions();
          }
        },
      });
    }

    // refreshSoon reads the order again 2 s after the last live update: the controller
    // records a transition's Events after the status write that the update came from.
    function refreshSoon() {
      clearTimeout(st.refresh);
      st.refresh = setTimeout(load, 2000);
    }

    async function act(mutation, field, done, refused) {
      st.busy = true;
      renderActions();
      alertMsg('');
      try {
        const r = await gql(mutation, { id, ns });
        const o = r.data && r.data[field];
        if (!o) {
          alertMsg(`${refused}: ${r.errors.length ? r.errors[0].message : 'no answer'}`);
          return;
        }
        update(o, r.errors, field);
        announce(done, true);
      } catch (e) {
        alertMsg(`${refused}: ${e.message}`);
      } finally {
        st.busy = false;
        if (st.order) renderActions();
      }
    }

    $('retry').addEventListener('click', () => act(RETRY, 'retryOrder', 'Retry requested: the rollback runs again.', 'Retry refused'));
    $('cancel').addEventListener('click', () => {
      $('cancel').hidden = true;
      $('cancel-confirm').hidden = false;
      $('cancel-yes').focus();
    });
    $('cancel-no').addEventListener('click', () => {
      $('cancel-confirm').hidden = true;
      renderActions();
      $('cancel').focus();
    });
    $('cancel-yes').addEventListener('click', async () => {
      await act(CANCEL, 'cancelOrder', 'Cancellation requested: the order rolls back.', 'Cancellation refused');
      $('cancel-confirm').hidden = true;
      if (st.order) renderActions();
      $('phase').focus();
    });
    $('phase').tabIndex = -1;
    load();
    return load;
  }

  // ---------------------------------------------------------------- the place-order form

  const PRODUCTS_QUERY = `query Catalog($ns: String) {
    products { id name price stock }
    viewer(namespace: $ns) { username namespace canPlaceOrders }
  }`;
  const PLACE = `mutation Place($input: PlaceOrderInput!, $key: String!, $ns: String) {
    placeOrder(input: $input, idempotencyKey: $key, namespace: $ns) { created order { id namespace } }
  }`;

  // newKey is a random UUID; crypto.randomUUID needs a secure context, so plain HTTP to
  // another host gets the same from getRandomValues.
  function newKey() {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    const b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  // cents reads a decimal string ("19.99") as whole cents, so totals do not drift.
  function cents(price) {
    const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(price || '');
    return m ? Number(m[1]) * 100 + Number((m[2] || '0').padEnd(2, '0')) : NaN;
  }
  const fromCents = (c) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;

  function newOrderPage() {
    const ns = new URLSearchParams(location.search).get('namespace') || null;
    const st = { products: new Map(), attempt: null, busy: false };
    const form = $('order-form');
    const lines = $('item-lines');

    function productOptions(select) {
      const keep = select.value;
      const opts = [h('option', { value: '' }, st.products.size ? 'Choose a product…' : 'No products')];
      for (const p of st.products.values()) {
        opts.push(h('option', { value: p.id }, `${p.name} (${p.id}) — ${p.price}, ${p.stock > 0 ? `${p.stock} in stock` : 'out of stock'}`));
      }
      select.replaceChildren(...opts);
      select.value = keep;
    }

    function lineParts(line) {
      return { product: line.querySelector('[data-role=product]'), quantity: line.querySelector('[data-role=quantity]') };
    }

    // renumber gives every line its ids, labels and error paths: input.items[i].productId…
    function renumber() {
      const all = [...lines.children];
      all.forEach((line, i) => {
        const { product, quantity } = lineParts(line);
        const n = all.length > 1 ? ` (line ${i + 1})` : '';
        for (const [el, part, label] of [[product, 'productId', 'Product'], [quantity, 'quantity', 'Quantity']]) {
          el.id = `item-${i}-${part}`;
          el.dataset.field = `input.items[${i}].${part}`;
          const lab = line.querySelector(`[data-for=${part === 'productId' ? 'product' : 'quantity'}]`);
          lab.htmlFor = el.id;
          lab.replaceChildren(label, h('span', { class: 'visually-hidden' }, n));
          line.querySelector(`[data-error=${part}]`).id = `${el.id}-error`;
        }
        const remove = line.querySelector('[data-role=remove]');
        remove.hidden = all.length === 1;
        remove.replaceChildren('Remove', h('span', { class: 'visually-hidden' }, n));
      });
      estimate();
    }

    function addLine() {
      const line = $('line-template').content.firstElementChild.cloneNode(true);
      const { product, quantity } = lineParts(line);
      productOptions(product);
      product.addEventListener('change', estimate);
      quantity.addEventListener('input', estimate);
      line.querySelector('[data-role=remove]').addEventListener('click', () => {
        const next = line.nextElementSibling || line.previousElementSibling;
        line.remove();
        renumber();
        if (next) lineParts(next).product.focus();
      });
      lines.append(line);
      renumber();
      return line;
    }

    function estimate() {
      let total = 0;
      let known = true;
      for (const line of lines.children) {
        const { product, quantity } = lineParts(line);
        const p = st.products.get(product.value);
        const q = Number.parseInt(quantity.value, 10);
        const c = p ? cents(p.price) : NaN;
        const out = line.querySelector('[data-role=line-total]');
        out.textContent = p && q > 0 && !Number.isNaN(c) ? fromCents(c * q) : '';
        if (out.textContent) total += c * q;
        else known = false;
      }
      $('estimate').textContent = known && lines.children.length ? `${fromCents(total)} ${$('currency').value || 'USD'}` : '–';
    }

    async function loadCatalog() {
      const status = $('products-status');
      try {
        const d = await gqlAll(PRODUCTS_QUERY, { ns });
        setViewer(d.viewer);
        $('new-namespace').textContent = `The order goes to namespace ${d.viewer.namespace}.`;
        const sorted = [...d.products].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
        st.products = new Map(sorted.map((p) => [p.id, p]));
        for (const line of lines.children) productOptions(lineParts(line).product);
        status.textContent = `${st.products.size} products in the catalog.`;
        if (!d.viewer.canPlaceOrders) {
          formErrors([{ message: `You may not place orders in namespace ${d.viewer.namespace}.` }]);
        }
        estimate();
      } catch (e) {
        status.textContent = e.code === 'UNAUTHENTICATED'
          ? 'Sign in to see the catalog.'
          : `The catalog could not be loaded: ${e.message}`;
      }
    }

    const text = (id) => $(id).value.trim();

    // collect reads the form into a PlaceOrderInput and lists what is missing.
    function collect() {
      const problems = [];
      const required = (id, field, label) => {
        const v = text(id);
        if (!v) problems.push({ field, message: `Enter the ${label}.` });
        return v;
      };
      const items = [...lines.children].map((line, i) => {
        const { product, quantity } = lineParts(line);
        const p = st.products.get(product.value);
        const which = lines.children.length > 1 ? ` (line ${i + 1})` : '';
        if (!p) problems.push({ field: `input.items[${i}].productId`, message: `Choose a product${which}.` });
        const q = quantity.value.trim();
        if (!/^[1-9][0-9]*$/.test(q)) problems.push({ field: `input.items[${i}].quantity`, message: `Enter a whole number of at least 1${which}.` });
        return { productId: product.value, quantity: Number.parseInt(q, 10) || 0, unitPrice: p ? p.price : '' };
      });
      const input = {
        customerId: required('customerId', 'input.customerId', 'customer ID'),
        items,
        currency: text('currency').toUpperCase() || null,
        paymentMethod: text('paymentMethod'),
        shipping: {
          method: text('shippingMethod') || null,
          address: {
            name: required('addrName', 'input.shipping.address.name', 'recipient name'),
            line1: required('addrLine1', 'input.shipping.address.line1', 'first address line'),
            line2: text('addrLine2') || null,
            city: required('addrCity', 'input.shipping.address.city', 'city'),
            region: text('addrRegion') || null,
            postalCode: required('addrPostalCode', 'input.shipping.address.postalCode', 'postal code'),
            country: required('addrCountry', 'input.shipping.address.country', 'country').toUpperCase(),
          },
        },
      };
      return { input, problems };
    }

    // fieldFor finds the control (or the error slot) an error path names, from the most
    // precise path to its parents: input.items[0].unitPrice is the line's product.
    function fieldFor(path) {
      let p = (path || '').replace(/\.unitPrice$/, '.productId').replace(/^(input\.items\[\d+\])$/, '$1.productId');
      while (p) {
        const el = form.querySelector(`[data-field="${CSS.escape(p)}"]`);
        if (el) return el;
        p = p.replace(/(\.[^.[]*|\[\d+\])$/, '');
        if (!/[.[]/.test(p)) break;
      }
      return null;
    }

    function clearErrors() {
      for (const el of form.querySelectorAll('[aria-invalid]')) {
        el.removeAttribute('aria-invalid');
        const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== `${el.id}-error`);
        if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
        else el.removeAttribute('aria-describedby');
      }
      for (const el of form.querySelectorAll('.field-error')) {
        el.textContent = '';
        el.hidden = true;
      }
      $('form-errors').hidden = true;
    }

    // formErrors puts each error next to its field (aria-invalid, aria-describedby) and
    // lists them all in the summary at the top, which takes the focus.
    function formErrors(errors) {
      const list = [];
      for (const e of errors) {
        const el = e.field ? fieldFor(e.field) : null;
        if (el && el.classList.contains('field-error')) {
          el.textContent = e.message;
          el.hidden = false;
          list.push(h('li', {}, e.message));
        } else if (el) {
          const slot = $(`${el.id}-error`);
          if (slot) {
            slot.textContent = slot.hidden ? e.message : `${slot.textContent} ${e.message}`;
            slot.hidden = false;
          }
          el.setAttribute('aria-invalid', 'true');
          const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
          if (slot && !ids.includes(slot.id)) el.setAttribute('aria-describedby', [...ids, slot.id].join(' '));
          list.push(h('li', {}, h('a', { href: `#${el.id}`, onclick: (ev) => { ev.preventDefault(); el.focus(); } }, e.message)));
        } else {
          list.push(h('li', {}, e.message));
        }
      }
      const box = $('form-errors');
      box.replaceChildren(h('p', {}, h('strong', {}, 'The order was not placed.')), h('ul', {}, list));
      box.hidden = false;
      box.focus();
    }

    async function submit(ev) {
      ev.preventDefault();
      if (st.busy) return;
      clearErrors();
      const { input, problems } = collect();
      if (problems.length) {
        formErrors(problems);
        return;
      }
      // One idempotency key per submission: the same payload sent again (after a network
      // error, a sign-in) keeps its key, so the order is placed at most once.
      const payload = JSON.stringify({ input, ns });
      if (!st.attempt || st.attempt.payload !== payload) st.attempt = { payload, key: newKey() };
      st.busy = true;
      $('place-order').disabled = true;
      $('submit-status').textContent = 'Placing the order…';
      try {
        const r = await gql(PLACE, { input, key: st.attempt.key, ns });
        const placed = r.data && r.data.placeOrder;
        if (placed && placed.order) {
          $('submit-status').textContent = placed.created ? 'Order placed. Opening it…' : 'This order was placed before. Opening it…';
          location.assign(orderHref(placed.order));
          return;
        }
        $('submit-status').textContent = '';
        formErrors(r.errors.map((e) => ({ field: e.extensions && e.extensions.field, message: e.message })));
      } catch (e) {
        $('submit-status').textContent = '';
        formErrors([{ message: `${e.message} Submit again: the order is placed only once whatever happened.` }]);
      } finally {
        st.busy = false;
        $('place-order').disabled = false;
      }
    }

    form.addEventListener('submit', submit);
    $('add-line').addEventListener('click', () => lineParts(addLine()).product.focus());
    $('currency').addEventListener('input', estimate);
    addLine();
    loadCatalog();
    return loadCatalog;
  }

  // ---------------------------------------------------------------- start

  initSession();
  const pages = { list: listPage, order: orderPage, new: newOrderPage };
  const start = pages[document.body.dataset.page];
  if (start) reloadPage = start();
})();
