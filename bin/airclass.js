#!/usr/bin/env node
// AirClass command line. Plain JavaScript so that an old Node can read it and say why it
// cannot go on; everything else is TypeScript run by Node's own type stripping.
const [major, minor] = process.versions.node.split('.').map(Number);
const strips = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
if (major < 22 || !strips) {
  process.stderr.write(
    `AirClass needs Node.js 24 (or 22.18+); this is Node.js ${process.versions.node}.\n` +
      'Run it through npm (npm start, npm run airclass -- <command>), which uses the Node 24 ' +
      'pinned in devDependencies, or install Node.js 24.\n',
  );
  process.exit(1);
}
const [first] = process.argv.slice(2);
if (
  first === undefined ||
  first === 'start' ||
  first === 'main' ||
  first === 'cluster' ||
  first.startsWith('-')
) {
  // The server serves the built pages: build them when missing or older than web/.
  const { ensureWeb } = await import('./ensure-web.js');
  ensureWeb();
}
const { main } = await import('../src/cli.ts');
await main(process.argv.slice(2));
