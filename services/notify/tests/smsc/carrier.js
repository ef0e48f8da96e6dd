// The carrier behind the SMSC of notify's SMPP tests (the Jasmin SMS gateway, see jasmin.py),
// run on node-smpp's server (npm `smpp`): the mobile network that Jasmin's SMPP client connector
// binds to. It accepts one account's transceiver binds, answers enquire_link, accepts every
// submit_sm with a fresh message id, writes what reached it to a JSON-lines file, and sends
// the delivery receipt asked for, in the usual `id:… stat:…` text form, which Jasmin relays to
// its own user. The receipt's state follows the destination, as SMSC simulators do: a number
// ending in 0666 is undeliverable, one ending in 0777 expires, any other is delivered.
//
// usage: node carrier.js PORT SYSTEM_ID PASSWORD RECEIVED_JSONL
"use strict";
const fs = require("fs");
const crypto = require("crypto");
const smpp = require("smpp");

const [port, systemId, password, receivedPath] = process.argv.slice(2);

function stateFor(destination) {
  if (destination.endsWith("0666")) return ["UNDELIV", "001"];
  if (destination.endsWith("0777")) return ["EXPIRED", "000"];
  return ["DELIVRD", "000"];
}

function smppDate(date) {
  const two = (n) => String(n).padStart(2, "0");
  return (
    two(date.getUTCFullYear() % 100) + two(date.getUTCMonth() + 1) + two(date.getUTCDate()) +
    two(date.getUTCHours()) + two(date.getUTCMinutes())
  );
}

const server = smpp.createServer((session) => {
  session.on("error", () => session.close());
  session.on("bind_transceiver", (pdu) => {
    if (pdu.system_id !== systemId || pdu.password !== password) {
      session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      session.close();
      return;
    }
    session.send(pdu.response({ system_id: "fursa-test-smsc" }));
  });
  session.on("enquire_link", (pdu) => session.send(pdu.response()));
  session.on("unbind", (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on("submit_sm", (pdu) => {
    const id = crypto.randomUUID();
    const message = pdu.short_message || {};
    const record = {
      id,
      destination: pdu.destination_addr,
      source: pdu.source_addr,
      data_coding: pdu.data_coding,
      esm_class: pdu.esm_class,
      registered_delivery: pdu.registered_delivery,
      udh: (message.udh || []).map((udh) => udh.toString("hex")),
      text: typeof message.message === "string" ? message.message : "",
    };
    fs.appendFileSync(receivedPath, JSON.stringify(record) + "\n");
    session.send(pdu.response({ message_id: id }));
    if (pdu.registered_delivery & 0x01) {
      const [stat, err] = stateFor(pdu.destination_addr);
      const now = smppDate(new Date());
      setTimeout(() => {
        session.deliver_sm({
          source_addr: pdu.destination_addr,
          destination_addr: pdu.source_addr,
          esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
          short_message:
            `id:${id} sub:001 dlvrd:${stat === "DELIVRD" ? "001" : "000"} ` +
            `submit date:${now} done date:${now} stat:${stat} err:${err} text:`,
        });
      }, 50);
    }
  });
});

server.listen(Number(port), "127.0.0.1", () => {
  process.stdout.write(`listening ${port}\n`);
});
