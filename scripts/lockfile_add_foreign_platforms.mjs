// npm 11 records in package-lock.json only the optional platform packages that the registry it
// used could serve; `npm ci` then refuses the lockfile as "out of sync" when a dependency lists
// optional packages for other platforms (e.g. msgpackr-extract's darwin and win32 builds) that the
// registry reachable here does not have. This adds lock entries for those foreign-platform
// packages, marked optional with their os/cpu, so `npm ci` skips them on Linux x64 and accepts
// the lockfile. Run it after `npm install --package-lock-only`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const platform = (name) => {
  const os = /darwin/.test(name) ? 'darwin' : /win32/.test(name) ? 'win32' : 'linux';
  const cpu = /arm64/.test(name) ? 'arm64' : /-arm$/.test(name) ? 'arm' : 'x64';
  return { os, cpu };
};
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (lock.packages[key] || lock.packages[`${path}/${key}`]) continue;
    const { os, cpu } = platform(dep);
    if (os === 'linux' && cpu === 'x64') continue;  // our own platform must really be there
    lock.packages[key] = { version, cpu: [cpu], optional: true, os: [os] };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} foreign-platform lock entries`);
