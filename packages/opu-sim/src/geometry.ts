import type { Rectangle } from 'opu-core';

/** Absolute indices (row-major over the whole DMD or sensor) of a rectangle's elements, in the rectangle's order. */
export function rectangleIndices(r: Rectangle, fullWidth: number): Int32Array {
  const out = new Int32Array(r.width * r.height);
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) out[y * r.width + x] = (r.top + y) * fullWidth + r.left + x;
  }
  return out;
}

/** Off-sensor pixel keys cover this many pixels around the sensor: more than the largest speckle-grain halo (21). */
const OFF_SENSOR_MARGIN_PX = 64;

/**
 * Keys of a rectangle's pixels on the sensor plane, which may reach past the sensor (speckle-grain halo): a pixel on
 * the sensor keeps its row-major sensor index, so its field does not depend on the halo; a pixel off the sensor gets
 * a unique key from `width·height` upwards.
 */
export function planeIndices(r: Rectangle, width: number, height: number): Int32Array {
  const out = new Int32Array(r.width * r.height);
  const m = OFF_SENSOR_MARGIN_PX;
  for (let y = 0; y < r.height; y++) {
    const py = r.top + y;
    for (let x = 0; x < r.width; x++) {
      const px = r.left + x;
      const onSensor = px >= 0 && px < width && py >= 0 && py < height;
      out[y * r.width + x] = onSensor ? py * width + px : width * height + (py + m) * (width + 2 * m) + px + m;
    }
  }
  return out;
}
