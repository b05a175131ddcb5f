// bench/sharp-peer.mjs - the peer side of bench/peer-sharp.sh: sharp (from npm, installed by
// that script, never committed) producing what `cachet build` produces for the same images
// with sharp's default settings: every width of WIDTHS below the image's own plus its own,
// in AVIF, WebP and a fallback (PNG for PNG/GIF sources and alpha, JPEG otherwise).
//
//   node bench/sharp-peer.mjs SHARP_DIR LIST OUT JOBS WIDTHS     (WIDTHS "" = own width only)
//
// LIST holds one source path per line (absolute); OUT gets the outputs and
// sharp-manifest.json ([{source, width, format, path, bytes}], sorted). JOBS images are
// processed at a time; within an image every width x format runs at once, as eleventy-img
// does, on libuv's default thread pool.
import { createRequire } from "node:module";
import fs from "node:fs/promises";
import path from "node:path";

const [sharpDir, listFile, outDir, jobsArg, widthsArg] = process.argv.slice(2);
const sharp = createRequire(path.join(sharpDir, "package.json"))("sharp");
const jobs = Number(jobsArg);
const widths = widthsArg ? widthsArg.split(",").map(Number) : []; // "" = own width only
const sources = (await fs.readFile(listFile, "utf8")).split("\n").filter(Boolean);
await fs.mkdir(outDir, { recursive: true });

async function one(source, index) {
  const input = await fs.readFile(source);
  const base = sharp(input, { limitInputPixels: 268402689 }).rotate(); // EXIF auto-orient
  const meta = await base.metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const own = swap ? meta.height : meta.width;
  const list = widths.filter((w) => w < own).concat([own]);
  const fallback = meta.format === "png" || meta.format === "gif" || meta.hasAlpha ? "png" : "jpeg";
  const records = [];
  await Promise.all(
    list.flatMap((w) =>
      ["avif", "webp", fallback].map(async (format) => {
        const { data, info } = await base.clone().resize({ width: w }).toFormat(format).toBuffer({ resolveWithObject: true });
        const name = `${index}-${w}w.${format === "jpeg" ? "jpg" : format}`;
        await fs.writeFile(path.join(outDir, name), data);
        records.push({ source, width: info.width, height: info.height, format, path: name, bytes: data.length });
      }),
    ),
  );
  return records;
}

const results = [];
let next = 0;
await Promise.all(
  Array.from({ length: jobs }, async () => {
    while (next < sources.length) {
      const i = next++;
      results.push(...(await one(sources[i], i)));
    }
  }),
);
results.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.width - b.width || (a.format < b.format ? -1 : 1)));
await fs.writeFile(path.join(outDir, "sharp-manifest.json"), JSON.stringify(results, null, 1));
