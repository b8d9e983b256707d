// The real socket.io-client (package.json pins it), driven by tests/chat/realtime/jsclient.py:
// it connects as the web frontend does, and reports on stdout one JSON line per thing that
// happens. Commands come on stdin, one per line:
//   drop            close the transport, as a network drop does (reconnection paused)
//   reconnect [url] reconnect (to another server process when a url is given)
//   autodrop        close the transport and let the client reconnect by itself
//   emit <json>     emit [event, payload]
import { io } from "socket.io-client";
import readline from "node:readline";

const [url, clerkId, extra] = process.argv.slice(2);
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const socket = io(url, { transports: ["websocket", "polling"], ...(extra ? JSON.parse(extra) : {}) });

socket.on("connect", () => {
  // _pid: the private session id (read only to test that it cannot be used by others).
  say({ type: "connect", recovered: Boolean(socket.recovered), id: socket.id, pid: socket._pid });
  // The frontend registers after every (re)connect.
  socket.emit("register_user", { clerkId });
});
socket.on("disconnect", (reason) => say({ type: "disconnect", reason }));
socket.on("connect_error", (err) => say({ type: "connect_error", message: err.message }));
socket.onAny((event, ...args) => say({ type: "event", event, args }));

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, ...rest] = line.trim().split(" ");
  const argument = rest.join(" ");
  if (command === "drop") {
    socket.io.reconnection(false);
    socket.io.engine.close();
  } else if (command === "autodrop") {
    socket.io.engine.close();
  } else if (command === "reconnect") {
    if (argument) socket.io.uri = argument;
    socket.io.reconnection(true);
    socket.connect();
  } else if (command === "emit") {
    socket.emit(...JSON.parse(argument));
  }
  say({ type: "done", command });
});
process.stdin.on("end", () => process.exit(0));
