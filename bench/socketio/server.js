// The socket.io 4 baseline for konvent-loadgen: WebSocket transport only, one room,
// every "chat" event from any client is broadcast to every client (the sender
// included), as konvent does with a chat line. Usage: node server.js PORT
"use strict";
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 3000);
const io = new Server(port, {
  transports: ["websocket"],
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 16 * 1024,
  pingInterval: 25000,
  pingTimeout: 60000,
  serveClient: false,
});
io.on("connection", (socket) => {
  socket.on("chat", (text) => {
    io.emit("chat", text);
  });
});
console.log(`socket.io baseline on ${port}`);
