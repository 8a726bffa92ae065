/*
 * How far apart two postal addresses are, roughly: each postal code is placed at the centre of its region (the first
 * digit's zone where the country's codes are regional, else the country's centre) and the distance is the great
 * circle between the two. Coarse on purpose: it orders candidate locations for routing (a warehouse in the buyer's
 * zone before one across the country, a neighbouring country last), it is not a parcel's route.
 */

type LatLon = readonly [lat: number, lon: number];

/** Zone centres by the postal code's first digit, for countries whose codes run by region. */
const ZONES: Readonly<Record<string, Readonly<Record<string, LatLon>>>> = {
  DE: { '0': [51.2, 13.2], '1': [52.6, 13.3], '2': [53.6, 9.9], '3': [52.1, 9.6], '4': [51.5, 7.2], '5': [50.6, 7.1], '6': [50.0, 8.6], '7': [48.7, 9.1], '8': [48.1, 11.6], '9': [49.8, 11.0] },
  AT: { '1': [48.2, 16.4], '2': [48.1, 16.3], '3': [48.3, 15.4], '4': [48.2, 14.0], '5': [47.8, 13.0], '6': [47.3, 11.3], '7': [47.4, 16.3], '8': [47.1, 15.4], '9': [46.7, 14.0] },
  NL: { '1': [52.4, 4.9], '2': [52.1, 4.4], '3': [51.9, 4.8], '4': [51.6, 4.1], '5': [51.5, 5.6], '6': [51.4, 5.9], '7': [52.3, 6.5], '8': [52.7, 5.9], '9': [53.2, 6.6] },
  CH: { '1': [46.5, 6.6], '2': [47.0, 7.0], '3': [46.9, 7.4], '4': [47.5, 7.6], '5': [47.4, 8.2], '6': [46.7, 8.6], '7': [46.7, 9.5], '8': [47.4, 8.5], '9': [47.4, 9.4] },
};

/** Country centres, where a code's zone is not known. */
const COUNTRIES: Readonly<Record<string, LatLon>> = {
  DE: [51.2, 10.4], AT: [47.6, 14.1], CH: [46.8, 8.2], NL: [52.1, 5.3], BE: [50.6, 4.5], DK: [56.0, 10.0], FR: [46.6, 2.4], IT: [42.8, 12.6], ES: [40.2, -3.6], PL: [52.1, 19.4], LU: [49.8, 6.1], CZ: [49.8, 15.5],
};

/** Where a postal address is, as well as this table knows; null for a country it does not know. */
export function locate(address: { country: string; postalCode: string }): LatLon | null {
  const country = address.country.toUpperCase();
  const digit = address.postalCode.trim().charAt(0);
  return ZONES[country]?.[digit] ?? COUNTRIES[country] ?? null;
}

/** Kilometres between two addresses; Infinity when either country is unknown (such candidates sort last). */
export function postalDistanceKm(a: { country: string; postalCode: string }, b: { country: string; postalCode: string }): number {
  const from = locate(a);
  const to = locate(b);
  if (!from || !to) return Number.POSITIVE_INFINITY;
  const rad = Math.PI / 180;
  const dLat = (to[0] - from[0]) * rad;
  const dLon = (to[1] - from[1]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(from[0] * rad) * Math.cos(to[0] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** `sites` nearest to `destination` first (ties and unknown places by id); without a destination, by id. */
export function byProximity<S extends { id: string; address?: { country: string; postalCode: string } | undefined }>(sites: readonly S[], destination: { country: string; postalCode: string } | null | undefined): S[] {
  const distance = (site: S) => (destination && site.address ? postalDistanceKm(destination, site.address) : Number.POSITIVE_INFINITY);
  return sites
    .map((site) => ({ site, km: distance(site) }))
    .sort((a, b) => (a.km !== b.km ? (a.km < b.km ? -1 : 1) : a.site.id < b.site.id ? -1 : a.site.id > b.site.id ? 1 : 0))
    .map((entry) => entry.site);
}
