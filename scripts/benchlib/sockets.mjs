#!/usr/bin/env node
// Socket.IO helpers for scripts/bench, run with the prepared chatload tools' node_modules
// (--modules DIR: a folder whose node_modules holds socket.io-client).
//
//   idle: hold N registered sockets for a memory measurement, driven over stdin/stdout:
//         creates the users (POST /users, unless --rest none), connects and registers a few
//         sockets and closes them again (so the server's first-connection work is done), prints
//         {"phase":"primed"}; on the stdin line "connect" connects N sockets (websocket),
//         emits register_user {clerkId} on each and waits for `registered`, prints
//         {"phase":"connected",...}; on "release" (or stdin closing) disconnects them all, prints
//         {"phase":"released"} and exits.
//   storm: reconnect storm: creates the users, primes the server like idle and lets it settle for 3 s,
//         then connects and registers N sockets (--concurrency at
//         a time, timed), then closes every socket's transport at once (`socket.io.engine.close()`);
//         each reconnects at once by itself (reconnectionDelay 0) and, like the app, emits
//         register_user again on `connect`. Prints one JSON line: {sockets, registered, connectMs,
//         back, recovered, stormMs}: stormMs from the drop until every socket is registered again
//         (and a line per phase before it: {"phase":"users"}, {"phase":"connected"}).
//   seed: data for the REST scenario, through the public API only: users P_0..P_C (POST /users),
//         then each of P_1..P_C sends P_0 one message over Socket.IO (so P_0 has C contacts on
//         either server), then P_1 sends P_0 M more, one at a time. Prints one JSON line:
//         {owner, other, conversationId, sent, failed, timedOut}.
//
// Loopback only; everything is bounded by --timeout.

import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const HELP = `usage: node sockets.mjs idle|storm|seed --modules DIR --url SOCKET_URL [options]
  --modules DIR       folder with node_modules/socket.io-client (the prepared chatload tools)
  --url URL           Socket.IO URL
  --rest URL|none     REST base URL for POST /users (default none: no user creation)
  --prefix P          clerkId prefix; ids are P_<i>
  --users N           idle, storm: sockets to hold (default 1000)
  --concurrency C     idle, storm: sockets connecting at once at first (default 50)
  --prime K           idle: sockets connected and closed before "primed" (default 10)
  --contacts C        seed: contacts of P_0 (default 50)
  --messages M        seed: extra messages P_1 -> P_0 (default 60)
  --timeout S         hard timeout in seconds (default 600)`;

function parse(argv) {
  const o = { cmd: argv[2], modules: null, url: null, rest: 'none', prefix: 'bs' + Math.random().toString(36).slice(2, 8),
    users: 1000, concurrency: 50, prime: 10, contacts: 50, messages: 60, timeout: 600 };
  for (let i = 3; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (k === 'help' || k === 'h') { console.log(HELP); process.exit(0); }
    if (!(k in o) || i + 1 >= argv.length) die(`bad option ${argv[i]}\n${HELP}`);
    const v = argv[++i];
    o[k] = typeof o[k] === 'number' ? Number(v) : v;
  }
  if (!['idle', 'storm', 'seed'].includes(o.cmd) || !o.modules || !o.url) die(HELP);
  for (const u of [o.url, o.rest]) {
    if (u !== 'none' && !/^(localhost|127\.|\[::1\])/.test(new URL(u).host)) die(`refusing non-loopback ${u}`);
  }
  return o;
}
function die(msg) { console.error(msg); process.exit(2); }

const opt = parse(process.argv);
const { io } = createRequire(path.join(path.resolve(opt.modules), 'package.json'))('socket.io-client');
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
setTimeout(() => { console.error(`sockets.mjs: hard timeout ${opt.timeout}s`); process.exit(3); }, opt.timeout * 1000).unref();

async function pool(items, conc, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(conc, items.length) }, async () => {
    while (i < items.length) { const k = i++; await fn(items[k], k); }
  }));
}

async function createUsers(ids) {
  const codes = {};
  if (opt.rest === 'none') return codes;
  await pool(ids, 16, async (id) => {
    try {
      const r = await fetch(`${opt.rest.replace(/\/$/, '')}/users`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-clerk-id': id },
        body: JSON.stringify({ isParalyzed: false }), signal: AbortSignal.timeout(10000),
      });
      await r.arrayBuffer();
      codes[r.status] = (codes[r.status] || 0) + 1;
    } catch (e) { codes[e.name] = (codes[e.name] || 0) + 1; }
  });
  return codes;
}

// Connect one websocket, emit register_user and wait for `registered`: the socket, or null.
function connect(clerkId, timeoutMs = 20000) {
  return new Promise((resolve) => {
    const sock = io(opt.url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: timeoutMs });
    const done = (ok) => { clearTimeout(timer); if (!ok) sock.disconnect(); resolve(ok ? sock : null); };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect_error', () => done(false));
    sock.once('connect', () => {
      sock.once('registered', (d) => done(!d || d.success !== false));
      sock.emit('register_user', { clerkId });
    });
  });
}

async function idle() {
  const ids = Array.from({ length: opt.users }, (_, i) => `${opt.prefix}_${i}`);
  const setup = await createUsers(ids);
  const primed = await Promise.all(ids.slice(0, opt.prime).map((id) => connect(id)));
  for (const s of primed) s && s.disconnect();
  await sleep(500);
  out({ phase: 'primed', setup, primeRegistered: primed.filter(Boolean).length });

  const lines = readline.createInterface({ input: process.stdin });
  const next = () => new Promise((resolve) => {
    const on = (l) => { lines.off('line', on); lines.off('close', onClose); resolve(l.trim()); };
    const onClose = () => { lines.off('line', on); resolve('release'); };
    lines.on('line', on); lines.once('close', onClose);
  });
  let cmd = await next();
  if (cmd !== 'connect') { out({ phase: 'released' }); process.exit(0); }
  const socks = new Array(ids.length).fill(null);
  let lateDisconnects = 0;
  const t0 = Date.now();
  await pool(ids, opt.concurrency, async (id, k) => { socks[k] = await connect(id); });
  const ms = Date.now() - t0;
  for (const s of socks) s && s.on('disconnect', () => { lateDisconnects++; });
  out({ phase: 'connected', sockets: ids.length, registered: socks.filter(Boolean).length, ms });
  while ((cmd = await next()) !== 'release') { /* ignore anything else */ }
  const stillUp = socks.filter((s) => s && s.connected).length;
  const dropped = lateDisconnects; // before our own disconnects below count too
  for (const s of socks) s && s.disconnect();
  await sleep(300);
  out({ phase: 'released', stillConnected: stillUp, droppedWhileHeld: dropped });
  process.exit(0);
}

// A socket that reconnects by itself at once after a drop and registers on every `connect`.
function stormSocket(clerkId, onRegistered, timeoutMs = 20000) {
  return new Promise((resolve) => {
    const sock = io(opt.url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 0,
      reconnectionDelayMax: 0, timeout: timeoutMs });
    let first = true;
    const timer = setTimeout(() => { if (first) { first = false; sock.disconnect(); resolve(null); } }, timeoutMs);
    sock.on('connect', () => sock.emit('register_user', { clerkId }));
    sock.on('registered', (d) => {
      if (d && d.success === false) return;
      if (first) { first = false; clearTimeout(timer); resolve(sock); } else onRegistered(sock);
    });
  });
}

async function storm() {
  const ids = Array.from({ length: opt.users }, (_, i) => `${opt.prefix}_${i}`);
  const setup = await createUsers(ids);
  // As in idle: the server's first-connection work done, and whatever the user creation left
  // to finish, before anything is timed.
  const primed = await Promise.all(ids.slice(0, opt.prime).map((id) => connect(id)));
  for (const s of primed) s && s.disconnect();
  await sleep(3000);
  out({ phase: 'users', setup });
  const back = new Set();
  let recovered = 0, registered = Infinity, dropped = false, done = null;
  const allBack = new Promise((r) => { done = r; });
  const onBack = (sock) => {
    if (!dropped || back.has(sock)) return;
    back.add(sock);
    if (sock.recovered) recovered++;
    if (back.size === registered) done();
  };
  const socks = new Array(ids.length).fill(null);
  const t0 = Date.now();
  await pool(ids, opt.concurrency, async (id, k) => { socks[k] = await stormSocket(id, onBack); });
  const connectMs = Date.now() - t0;
  const live = socks.filter(Boolean);
  registered = live.length;
  out({ phase: 'connected', registered, connectMs });
  await sleep(1000);
  const t1 = Date.now();
  dropped = true;
  for (const s of live) s.io.engine.close();
  const timedOut = await Promise.race([allBack.then(() => false), sleep(opt.timeout * 500).then(() => true)]);
  const stormMs = Date.now() - t1;
  out({ phase: 'storm', sockets: ids.length, registered, connectMs, back: back.size, recovered, stormMs, timedOut });
  for (const s of socks) s && s.disconnect();
  await sleep(300);
  process.exit(0);
}

// Send one message and wait for message_delivered (or message_failed): {conversationId, ok}.
function sendOne(sock, from, to, text, timeoutMs = 10000) {
  return new Promise((resolve) => {
    let conversationId = null;
    const finish = (r) => {
      clearTimeout(timer); sock.off('message_sent', onSent); sock.off('message_delivered', onDelivered);
      sock.off('message_failed', onFailed); resolve({ conversationId, ...r });
    };
    const onSent = (d) => { if (d && d.conversationId != null) conversationId = d.conversationId; };
    const onDelivered = () => finish({ ok: true });
    const onFailed = (d) => finish({ ok: false, error: d && d.error });
    const timer = setTimeout(() => finish({ ok: false, timedOut: true }), timeoutMs);
    sock.on('message_sent', onSent); sock.on('message_delivered', onDelivered); sock.on('message_failed', onFailed);
    sock.emit('send_message', { fromClerkId: from, toClerkId: to, text });
  });
}

async function seed() {
  const ids = Array.from({ length: opt.contacts + 1 }, (_, i) => `${opt.prefix}_${i}`);
  const owner = ids[0];
  const setup = await createUsers(ids);
  const r = { owner, other: ids[1], conversationId: null, setup, sent: 0, failed: 0, timedOut: 0, unregistered: 0, errors: [] };
  const tally = (res) => {
    r.sent++;
    if (!res.ok) { r.failed++; if (res.timedOut) r.timedOut++; if (res.error && r.errors.length < 3) r.errors.push(res.error); }
  };
  const socks = {};
  await pool(ids.slice(1), 10, async (id) => {
    const sock = await connect(id);
    if (!sock) { r.unregistered++; return; }
    socks[id] = sock;
    tally(await sendOne(sock, id, owner, `seed first message from ${id}`));
  });
  const sock = socks[ids[1]];
  for (let i = 0; sock && i < opt.messages; i++) {
    const res = await sendOne(sock, ids[1], owner, `seed message ${i} from ${ids[1]}`);
    if (res.conversationId != null) r.conversationId = res.conversationId;
    tally(res);
  }
  for (const s of Object.values(socks)) s.disconnect();
  out(r);
  await sleep(200);
  process.exit(0);
}

({ idle, storm, seed })[opt.cmd]().catch((e) => { console.error(e); process.exit(1); });
