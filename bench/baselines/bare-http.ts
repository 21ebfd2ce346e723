import { createServer } from 'node:http';

/** Baseline: a bare node:http server that parses the JSON body and answers 200, nothing else. */
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
    } catch {
      response.writeHead(400).end();
    }
  });
});
server.listen(Number(process.env.PORT ?? 4001), '127.0.0.1');
