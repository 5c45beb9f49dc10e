import { FrameDecoder, ttyTransport } from 'opu-driver';
import { openPseudoTerminal } from 'opu-native';

const pty = openPseudoTerminal();
const t = ttyTransport(pty.masterFd);
const [mode, totalArg] = process.argv.slice(2);
const total = Number(totalArg);
const decoder = new FrameDecoder();
let bytes = 0;
let payload = 0;
let reads = 0;
t.onData((b) => {
  reads++;
  bytes += b.length;
  if (mode === 'decode') for (const f of decoder.push(b)) payload += f.payload.length;
  if ((mode === 'raw' && bytes >= total) || (mode === 'decode' && payload >= total)) console.log('done', reads);
});
console.log(pty.path);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
