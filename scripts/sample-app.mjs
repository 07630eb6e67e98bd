// A sample application for the docker-compose stack: writes JSON access and app log lines the
// way a web service would, for the fluentd agent container to tail. Not used by fleetline.
import { appendFileSync, mkdirSync } from 'node:fs';

const dir = process.env.LOG_DIR ?? '/var/log/app';
mkdirSync(dir, { recursive: true });
const paths = ['/', '/api/items', '/login', '/search'];
const stamp = () => new Date().toISOString().replace('Z', '000000+0000');

setInterval(() => {
  const status = Math.random() < 0.03 ? 503 : 200;
  const access = {
    time: stamp(),
    method: 'GET',
    path: paths[Math.floor(Math.random() * paths.length)],
    status,
    reqtime: Math.round(Math.exp(Math.random() * 2 - 3) * 1e6) / 1e6,
  };
  appendFileSync(`${dir}/access.log`, `${JSON.stringify(access)}\n`);
  if (Math.random() < 0.2) {
    const level = status >= 500 ? 'error' : 'info';
    appendFileSync(
      `${dir}/app.log`,
      `${JSON.stringify({ time: stamp(), level, message: `served ${access.path}` })}\n`,
    );
  }
}, 200);
