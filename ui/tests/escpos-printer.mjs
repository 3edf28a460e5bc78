// A fake ESC/POS receipt printer on 127.0.0.1 for the printing tests: it answers the
// real-time status queries (DLE EOT n: 0x10 0x04 n) as an Epson-style printer does, with
// paper or without, and keeps what each connection sent, the queries taken out, as one
// job. A connection that only asked how the printer is (the node's look before a job, or
// an idle printer's check) is no job.

import net from 'node:net';

const DLE = 0x10;
const EOT = 0x04;

/** The one-byte answer to DLE EOT `n`, as a printer with or without paper gives it. */
function statusByte(n, paperOut) {
  switch (n) {
    case 1: return 0x16; // online, drawer closed
    case 2: return paperOut ? 0x32 : 0x12; // stopped by the paper end
    case 4: return paperOut ? 0x72 : 0x12; // roll end
    default: return 0x12;
  }
}

/**
 * Starts the printer; resolves with { port, jobs, setPaperOut(bool), waitForJobs(n, ms),
 * close() }. `jobs`: one Buffer per connection that sent more than status queries.
 */
export async function startEscposPrinter() {
  const jobs = [];
  const connections = new Set();
  let paperOut = false;
  const server = net.createServer((socket) => {
    connections.add(socket);
    let pending = Buffer.alloc(0);
    const kept = [];
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      let i = 0;
      let from = 0;
      while (i < pending.length) {
        if (pending[i] !== DLE) {
          i += 1;
          continue;
        }
        // A DLE at the end may be the start of a query still on its way.
        if (i + 1 >= pending.length || (pending[i + 1] === EOT && i + 2 >= pending.length)) break;
        if (pending[i + 1] === EOT && [1, 2, 3, 4].includes(pending[i + 2])) {
          kept.push(pending.subarray(from, i));
          socket.write(Buffer.from([statusByte(pending[i + 2], paperOut)]));
          i += 3;
          from = i;
        } else {
          i += 1;
        }
      }
      kept.push(pending.subarray(from, i));
      pending = Buffer.from(pending.subarray(i));
    });
    const done = () => {
      if (!connections.delete(socket)) return;
      const job = Buffer.concat([...kept, pending]);
      if (job.length > 0) jobs.push(job);
    };
    socket.on('end', () => {
      done();
      socket.end();
    });
    socket.on('close', done);
    socket.on('error', () => undefined);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    jobs,
    setPaperOut(out) {
      paperOut = out;
    },
    /** Resolves with `jobs` once it holds at least `n`; rejects after `ms`. */
    async waitForJobs(n, ms = 15_000) {
      const end = Date.now() + ms;
      while (jobs.length < n) {
        if (Date.now() > end) throw new Error(`the printer got ${jobs.length} job(s), not ${n}, within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return jobs;
    },
    close() {
      for (const s of connections) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
