#!/usr/bin/env node
// The reconnect scenario of scripts/bench: USERS sockets in pairs (sender -> receiver), each
// with socket.io-client's default options (automatic reconnection, connection state recovery)
// and registering after every (re)connect as the web frontend does. Senders send at RATE
// messages/s in all for SECONDS; a third of the way in, half the users (both sides of every
// other pair) have their transport closed (`socket.io.engine.close()`) and reconnect by
// themselves under the load. Then it waits for every acknowledged message to arrive and prints
// one JSON line: {users, sent, acked, lost, duplicated, dropped, recovered, ...}: lost = acked
// but never received, duplicated = received more than once.
import { createRequire } from 'node:module';
import path from 'node:path';

const o = { modules: null, url: null, rest: 'none', prefix: 'dr', users: 1000, rate: 200, seconds: 15, timeout: 600 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in o)) { console.error(`bad option ${process.argv[i]}`); process.exit(2); }
  o[k] = typeof o[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const { io } = createRequire(path.join(path.resolve(o.modules), 'package.json'))('socket.io-client');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
setTimeout(() => { console.error(`drops.mjs: hard timeout ${o.timeout}s`); process.exit(3); }, o.timeout * 1000).unref();

const ids = Array.from({ length: o.users - (o.users % 2) }, (_, i) => `${o.prefix}_${i}`);
if (o.rest !== 'none') {
  for (let i = 0; i < ids.length; i += 20) {
    await Promise.all(ids.slice(i, i + 20).map((id) => fetch(`${o.rest}/users`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-clerk-id': id },
      body: JSON.stringify({ isParalyzed: false }),
    }).then((r) => r.arrayBuffer())));
  }
}

const received = new Map(); // messageId -> times received by its recipient
const acked = new Map(); // messageId -> recipient index
let sent = 0, recovered = 0, notRecovered = 0, dropped = 0, failed = 0;
const sockets = ids.map((id, k) => {
  const sock = io(o.url, { transports: ['websocket'], forceNew: true });
  let first = true;
  sock.on('connect', () => {
    if (!first) (sock.recovered ? recovered++ : notRecovered++);
    first = false;
    sock.emit('register_user', { clerkId: id });
  });
  if (k % 2 === 1) {
    sock.on('receive_message', (m) => { if (m.toClerkId === id) received.set(m.messageId, (received.get(m.messageId) || 0) + 1); });
  }
  return sock;
});
await Promise.all(sockets.map((s) => new Promise((r) => s.once('registered', r))));

const senders = sockets.filter((_, k) => k % 2 === 0);
const interval = (1000 * senders.length) / o.rate;
const until = Date.now() + o.seconds * 1000;
let dropAt = Date.now() + (o.seconds * 1000) / 3;
await Promise.all(senders.map(async (sock, j) => {
  await sleep(Math.random() * interval);
  while (Date.now() < until) {
    if (j === 0 && dropAt && Date.now() >= dropAt) {
      dropAt = 0;
      sockets.forEach((s, k) => { if (Math.floor(k / 2) % 2 === 0) { s.io.engine.close(); dropped++; } });
    }
    sent++;
    sock.emit('send_message', { fromClerkId: ids[2 * j], toClerkId: ids[2 * j + 1], text: `m${sent}` }, (ack) => {
      if (ack && ack.success) acked.set(ack.messageId, 2 * j + 1); else failed++;
    });
    await sleep(interval);
  }
}));

const deadline = Date.now() + 30000;
const missing = () => [...acked.keys()].filter((id) => !received.has(id)).length;
while (Date.now() < deadline && (missing() > 0 || acked.size + failed < sent)) await sleep(200);
await sleep(1000); // late duplicates would arrive now
const duplicated = [...received.values()].filter((n) => n > 1).length;
process.stdout.write(JSON.stringify({
  users: ids.length, sent, acked: acked.size, failed, unanswered: sent - acked.size - failed, lost: missing(),
  duplicated, dropped, recovered, notRecovered,
}) + '\n');
sockets.forEach((s) => s.disconnect());
await sleep(300);
process.exit(0);
