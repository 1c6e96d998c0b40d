#!/usr/bin/env node
// Draws Lifeline's application icon — a white heartbeat line on a blue rounded square — and
// writes it as PNG files in build/icons/ (one per size, named as electron-builder expects for
// Linux: 512x512.png, 256x256.png). No dependencies: the pixels are computed here (anti-aliased
// with distance fields) and the PNG is assembled by hand with node:zlib. Deterministic, so the
// committed files only change when this script does.
//
//   node build/make-icon.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'icons');
const SIZES = [512, 256];

// Geometry on a 512×512 canvas, scaled for other sizes.
const MARGIN = 32;
const RADIUS = 104;
const LINE_HALF_WIDTH = 15;
const HEARTBEAT = [
  [92, 284],
  [188, 284],
  [218, 214],
  [256, 370],
  [300, 142],
  [336, 284],
  [420, 284],
];
const TOP = [0x16, 0x6f, 0xd0]; // the console's accent blue, lighter at the top
const BOTTOM = [0x0b, 0x4a, 0x8f];
const LINE = [0xff, 0xff, 0xff];

const clamp01 = (x) => Math.min(1, Math.max(0, x));

/** Signed distance from (x, y) to the rounded square (negative inside). */
function roundedSquareDistance(x, y) {
  const c = 256;
  const half = 256 - MARGIN;
  const qx = Math.abs(x - c) - (half - RADIUS);
  const qy = Math.abs(y - c) - (half - RADIUS);
  const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0));
  const inside = Math.min(Math.max(qx, qy), 0);
  return outside + inside - RADIUS;
}

function segmentDistance(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = clamp01(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

function heartbeatDistance(x, y) {
  let d = Infinity;
  for (let i = 1; i < HEARTBEAT.length; i++) d = Math.min(d, segmentDistance(x, y, HEARTBEAT[i - 1], HEARTBEAT[i]));
  return d - LINE_HALF_WIDTH; // round caps and joins come for free
}

function drawRgba(size) {
  const scale = 512 / size;
  const rgba = Buffer.alloc(size * size * 4);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const x = (col + 0.5) * scale;
      const y = (row + 0.5) * scale;
      // Distances are in 512-space; divide by `scale` for pixel-sized anti-aliasing.
      const shape = clamp01(0.5 - roundedSquareDistance(x, y) / scale);
      const line = clamp01(0.5 - heartbeatDistance(x, y) / scale);
      const t = y / 512;
      const i = (row * size + col) * 4;
      for (let ch = 0; ch < 3; ch++) {
        const bg = TOP[ch] + (BOTTOM[ch] - TOP[ch]) * t;
        rgba[i + ch] = Math.round(bg + (LINE[ch] - bg) * line);
      }
      rgba[i + 3] = Math.round(255 * shape);
    }
  }
  return rgba;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bits per channel
  ihdr[9] = 6; // colour type: RGBA
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const stride = size * 4;
  const raw = Buffer.alloc((stride + 1) * size);
  for (let row = 0; row < size; row++) {
    raw[row * (stride + 1)] = 0; // filter: none
    rgba.copy(raw, row * (stride + 1) + 1, row * stride, (row + 1) * stride);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

fs.mkdirSync(outDir, { recursive: true });
for (const size of SIZES) {
  const file = path.join(outDir, `${size}x${size}.png`);
  fs.writeFileSync(file, encodePng(size, drawRgba(size)));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
