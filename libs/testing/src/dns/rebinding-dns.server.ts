import { createSocket, RemoteInfo } from 'node:dgram';
import { AddressInfo } from 'node:net';

export interface RebindingDnsServerOptions {
  /** The one name answered (case-insensitive, no trailing dot); every other name is NXDOMAIN. */
  readonly name: string;
  /** IPv4 addresses handed out in turn, one per A query: the rebinding attacker's script. */
  readonly answers: readonly string[];
  /** Loopback address to listen on; default 127.0.0.1. */
  readonly host?: string;
}

export interface RebindingDnsServerHandle {
  /** `ip:port`, as `DNS_SERVERS` / UrlPolicy's `dnsServers` take it. */
  readonly server: string;
  /** A queries for the name answered so far. */
  readonly aQueries: number;
  /** Every query received (any name, any type). */
  readonly queries: number;
  /** Starts the script again from its first answer (and the counts from zero). */
  reset(answers?: readonly string[]): void;
  stop(): Promise<void>;
}

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

/**
 * A tiny authoritative DNS server over UDP that plays a DNS rebinding attacker: each A query
 * for its name gets the next address of its script (TTL 0, so nothing caches it), e.g. an
 * allowed address for the check and a blocked one for whoever asks again. Other types of the
 * name (AAAA...) get an empty NOERROR answer. Enough of RFC 1035 for c-ares and glibc.
 */
export async function startRebindingDnsServer(options: RebindingDnsServerOptions): Promise<RebindingDnsServerHandle> {
  const name = options.name.toLowerCase().replace(/\.$/, '');
  let script = [...options.answers];
  let aQueries = 0;
  let queries = 0;
  const socket = createSocket('udp4');

  socket.on('message', (message: Buffer, peer: RemoteInfo) => {
    queries++;
    const question = parseQuestion(message);
    if (!question) return;
    let reply: Buffer;
    if (question.opcode !== 0) reply = header(message, RCODE_NOTIMP, 0);
    else if (question.name !== name) reply = header(message, RCODE_NXDOMAIN, 0);
    else if (question.type === TYPE_A && question.class === CLASS_IN && script.length > 0) {
      const address = script[aQueries++ % script.length] as string;
      reply = Buffer.concat([header(message, 0, 1), question.raw, answerA(address)]);
    } else reply = Buffer.concat([header(message, 0, 0), question.raw]);
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = socket.address() as AddressInfo;

  return {
    server: `${address.address}:${address.port}`,
    get aQueries() {
      return aQueries;
    },
    get queries() {
      return queries;
    },
    reset(answers) {
      if (answers) script = [...answers];
      aQueries = 0;
      queries = 0;
    },
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

interface Question {
  readonly opcode: number;
  readonly name: string;
  readonly type: number;
  readonly class: number;
  /** The question section as received, echoed in the answer. */
  readonly raw: Buffer;
}

function parseQuestion(message: Buffer): Question | undefined {
  if (message.length < 12 || message.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  for (let length = message[at]; length !== undefined && length > 0; length = message[at]) {
    if (length > 63 || at + 1 + length > message.length) return undefined;
    labels.push(message.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  if (at + 5 > message.length) return undefined;
  return {
    opcode: ((message[2] ?? 0) >> 3) & 0x0f,
    name: labels.join('.').toLowerCase(),
    type: message.readUInt16BE(at + 1),
    class: message.readUInt16BE(at + 3),
    raw: message.subarray(12, at + 5),
  };
}

/** Response header: the query's id and RD bit, QR and AA set, one question, `answers` answers. */
function header(query: Buffer, rcode: number, answers: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(query.readUInt16BE(0), 0);
  out[2] = 0x84 | ((query[2] ?? 0) & 0x01);
  out[3] = rcode & 0x0f;
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(answers, 6);
  return out;
}

function answerA(address: string): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt16BE(0xc00c, 0); // the name, as a pointer to the question's
  out.writeUInt16BE(TYPE_A, 2);
  out.writeUInt16BE(CLASS_IN, 4);
  out.writeUInt32BE(0, 6); // TTL 0: never cached, the way a rebinding attacker answers
  out.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => (out[12 + i] = Number(octet)));
  return out;
}
