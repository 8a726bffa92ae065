import { mulberry32 } from '../common/seeded-random.js';
import { createEvent, type CanonicalEvent, type EventDataByType, type EventSource, type EventType, type OrderStatusName, type StatusMove } from '../common/events.js';
import type {
  Channel,
  CustomerRecord,
  DeliveryMethod,
  ErpProduct,
  ErpVariant,
  InvoiceRecord,
  OrderLineRecord,
  OrderRecord,
  OrderStatus,
  PaymentRecord,
  PostingRecord,
  RefundRecord,
  ReturnRecord,
  ShipmentRecord,
  SiteRecord,
  StockPolicy,
  StockRecord,
} from '../common/systems/records.js';

/** Everything the sandbox systems hold, generated from a seed. Same seed and scale, same data, byte for byte. */
export interface SeedData {
  products: ErpProduct[];
  variants: ErpVariant[];
  stores: SiteRecord[];
  warehouses: SiteRecord[];
  stock: StockRecord[];
  policies: StockPolicy[];
  customers: CustomerRecord[];
  orders: OrderRecord[];
  shipments: ShipmentRecord[];
  returns: ReturnRecord[];
  payments: PaymentRecord[];
  refunds: RefundRecord[];
  invoices: InvoiceRecord[];
  postings: PostingRecord[];
  events: CanonicalEvent[];
}

export interface SeedOptions {
  seed: number;
  /** Multiplies products, customers and orders; locations stay at 20 stores and 5 warehouses. */
  scale: number;
  /** The "now" of the demo history. Fixed so that the data does not depend on the day it is generated. */
  anchor?: string;
}


const BRANDS = ['Northwind', 'Fjällrun', 'Kestrel', 'Aurora', 'Bergmann', 'Lumen', 'Corvid', 'Halden', 'Solstice', 'Tidewater', 'Ironbark', 'Meridian'];
const CATEGORIES: Record<string, { nouns: string[]; colors: string[]; sizes: string[]; price: [number, number] }> = {
  shoes: { nouns: ['Trail Runner', 'Court Sneaker', 'Hiking Boot', 'Loafer', 'Sandal', 'Chelsea Boot'], colors: ['Black', 'Sand', 'Navy', 'Olive', 'White'], sizes: ['39', '40', '41', '42', '43', '44', '45'], price: [4999, 18999] },
  apparel: { nouns: ['Rain Jacket', 'Merino Sweater', 'Chino', 'Oxford Shirt', 'Down Vest', 'Hoodie', 'Parka'], colors: ['Black', 'Grey', 'Forest', 'Rust', 'Ecru'], sizes: ['XS', 'S', 'M', 'L', 'XL'], price: [2999, 24999] },
  outdoor: { nouns: ['Daypack', 'Tent', 'Sleeping Bag', 'Trekking Pole', 'Headlamp', 'Camp Stove'], colors: ['Red', 'Green', 'Blue', 'Orange'], sizes: ['S', 'M', 'L'], price: [1999, 39999] },
  home: { nouns: ['Linen Duvet', 'Ceramic Mug', 'Cast Iron Pan', 'Wool Throw', 'Table Lamp', 'Chef Knife'], colors: ['Stone', 'Charcoal', 'Sage', 'Terracotta'], sizes: ['Small', 'Medium', 'Large'], price: [999, 14999] },
  electronics: { nouns: ['Wireless Earbuds', 'Bluetooth Speaker', 'Smart Watch', 'Power Bank', 'E-Reader', 'Action Camera'], colors: ['Black', 'Silver', 'Blue'], sizes: ['32GB', '64GB', '128GB'], price: [2499, 34999] },
  beauty: { nouns: ['Face Cream', 'Shampoo', 'Eau de Parfum', 'Lip Balm', 'Body Lotion'], colors: ['Unscented', 'Citrus', 'Lavender', 'Cedar'], sizes: ['50ml', '100ml', '250ml'], price: [499, 8999] },
  sports: { nouns: ['Yoga Mat', 'Kettlebell', 'Running Tights', 'Cycling Helmet', 'Tennis Racket', 'Football'], colors: ['Black', 'Teal', 'Coral', 'Lime'], sizes: ['S', 'M', 'L', 'XL'], price: [1499, 19999] },
  toys: { nouns: ['Building Set', 'Plush Bear', 'Puzzle', 'Wooden Train', 'Board Game'], colors: ['Multi', 'Natural', 'Red'], sizes: ['Standard', 'Deluxe'], price: [999, 9999] },
};
const ADJECTIVES = ['Classic', 'Pro', 'Lite', 'Everyday', 'Alpine', 'Urban', 'Heritage', 'Summit', 'Coastal', 'Studio', 'Nordic', 'Aero'];
const CITIES: [string, string, string][] = [
  ['Berlin', '10115', 'DE'], ['Hamburg', '20095', 'DE'], ['Munich', '80331', 'DE'], ['Cologne', '50667', 'DE'], ['Frankfurt', '60311', 'DE'],
  ['Stuttgart', '70173', 'DE'], ['Düsseldorf', '40213', 'DE'], ['Leipzig', '04109', 'DE'], ['Dresden', '01067', 'DE'], ['Hanover', '30159', 'DE'],
  ['Vienna', '1010', 'AT'], ['Graz', '8010', 'AT'], ['Zurich', '8001', 'CH'], ['Basel', '4051', 'CH'], ['Amsterdam', '1012', 'NL'],
  ['Rotterdam', '3011', 'NL'], ['Utrecht', '3511', 'NL'], ['Antwerp', '2000', 'BE'], ['Brussels', '1000', 'BE'], ['Copenhagen', '1050', 'DK'],
];
const STREETS = ['Hauptstraße', 'Marktplatz', 'Bahnhofstraße', 'Königsallee', 'Kaiserstraße', 'Lindenweg', 'Schillerstraße', 'Rathausplatz'];
const FIRST = ['Anna', 'Ben', 'Clara', 'David', 'Emma', 'Felix', 'Greta', 'Hannah', 'Jonas', 'Lena', 'Lukas', 'Mia', 'Noah', 'Olivia', 'Paul', 'Sofia', 'Tom', 'Lea', 'Elias', 'Marie', 'Finn', 'Ida', 'Leon', 'Nora', 'Max', 'Amelie', 'Karl', 'Johanna', 'Moritz', 'Frieda'];
const LAST = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Richter', 'Klein', 'Wolf', 'Neumann', 'Schwarz', 'Braun', 'Zimmermann', 'Hartmann', 'Krüger', 'de Vries', 'Jansen', 'Peeters', 'Nielsen', 'Huber', 'Gruber'];
const CARRIERS = ['DHL', 'DPD', 'UPS', 'GLS', 'PostNL'];
const RETURN_REASONS = ['Wrong size', 'Changed my mind', 'Damaged on arrival', 'Not as described', 'Arrived too late'];

const DAY = 86_400_000;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

export function generateSeedData(options: SeedOptions): SeedData {
  const rand = mulberry32(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
  const chance = (p: number) => rand() < p;
  const hex = (len: number) => {
    let out = '';
    for (let i = 0; i < len; i++) out += Math.floor(rand() * 16).toString(16);
    return out;
  };
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
  const anchor = Date.parse(options.anchor ?? '2026-11-20T18:00:00.000Z');
  const scale = Math.max(0.01, options.scale);

  // Item master (ERP)
  const products: ErpProduct[] = [];
  const variants: ErpVariant[] = [];
  const categoryNames = Object.keys(CATEGORIES);
  const productCount = Math.max(10, Math.round(500 * scale));
  for (let p = 1; p <= productCount; p++) {
    const category = categoryNames[(p - 1) % categoryNames.length] as string;
    const spec = CATEGORIES[category]!;
    const brand = pick(BRANDS);
    const noun = pick(spec.nouns);
    const name = `${brand} ${pick(ADJECTIVES)} ${noun}`;
    const id = `prod-${pad(p, 4)}`;
    const basePrice = Math.round(int(spec.price[0], spec.price[1]) / 100) * 100 - 1; // ends in .99
    const colors = [...spec.colors].sort(() => rand() - 0.5);
    const sizes = spec.sizes;
    const skus: string[] = [];
    for (let v = 0; v < 3; v++) {
      const color = colors[v % colors.length] as string;
      const size = sizes[(v + p) % sizes.length] as string;
      const sku = `SKU-${pad(p, 4)}-${v + 1}`;
      skus.push(sku);
      variants.push({ sku, productId: id, name: `${name} — ${color}, ${size}`, color, size, priceMinor: basePrice + (v === 2 ? 1000 : 0), currency: 'EUR', status: 'ACTIVE' });
    }
    products.push({
      id,
      name,
      brand,
      category,
      skus,
      description: `The ${name} from ${brand}: ${noun.toLowerCase()} made for ${pick(['city days', 'long trails', 'cold mornings', 'weekend trips', 'everyday use'])}, ${pick(['built to last', 'light and packable', 'easy to care for', 'responsibly made'])}.`,
    });
  }

  // Locations: stores (POS) and warehouses (WMS)
  const stores: SiteRecord[] = CITIES.map(([city, postalCode, country], i) => ({
    id: `store-${pad(i + 1, 3)}`,
    name: `${city} ${pick(['Centre', 'Altstadt', 'Station', 'Mall', 'Flagship'])}`,
    type: 'STORE',
    pickupEnabled: i % 7 !== 6, // a few stores have no pickup counter
    address: { line1: `${pick(STREETS)} ${int(1, 120)}`, city, postalCode, country },
  }));
  const warehouses: SiteRecord[] = [
    ['Kassel', '34117', 'DE'], ['Erfurt', '99084', 'DE'], ['Venlo', '5928', 'NL'], ['Linz', '4020', 'AT'], ['Bad Hersfeld', '36251', 'DE'],
  ].map(([city, postalCode, country], i) => ({
    id: `wh-${pad(i + 1, 2)}`,
    name: `${city} Distribution Centre`,
    type: 'WAREHOUSE' as const,
    pickupEnabled: false,
    address: { line1: `Logistikpark ${int(1, 40)}`, city: city as string, postalCode: postalCode as string, country: country as string },
  }));
  const sites = [...stores, ...warehouses];

  // Stock: operational counts and ERP policy per SKU and location
  const stock: StockRecord[] = [];
  const policies: StockPolicy[] = [];
  for (const variant of variants) {
    const profile = rand(); // some SKUs are sold out or scarce everywhere
    for (const site of sites) {
      const isStore = site.type === 'STORE';
      let onHand = isStore ? int(0, 24) : int(20, 400);
      if (profile < 0.05) onHand = 0;
      else if (profile < 0.15) onHand = int(0, isStore ? 3 : 8);
      const committed = onHand > 0 && chance(0.3) ? int(0, Math.min(onHand, isStore ? 2 : 10)) : 0;
      const reserved = onHand - committed > 0 && chance(0.15) ? int(0, Math.min(onHand - committed, 2)) : 0;
      const damaged = onHand > 5 && chance(0.08) ? 1 : 0;
      stock.push({ sku: variant.sku, locationId: site.id, onHand, committed, reserved, damaged });
      policies.push({ sku: variant.sku, locationId: site.id, safetyStock: isStore ? int(0, 2) : int(2, 10), incoming: chance(0.2) ? int(1, isStore ? 12 : 120) : 0 });
    }
  }

  // Customers (CRM)
  const customers: CustomerRecord[] = [];
  const customerCount = Math.max(20, Math.round(2000 * scale));
  for (let c = 1; c <= customerCount; c++) {
    const firstName = pick(FIRST);
    const lastName = pick(LAST);
    const emailName = `${firstName}.${lastName}`.toLowerCase().replace(/ü/g, 'ue').replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/[^a-z.]/g, '');
    const points = int(0, 12000);
    customers.push({
      id: `cust-${pad(c, 5)}`,
      firstName,
      lastName,
      email: `${emailName}${c}@example.com`,
      phone: `+49 ${int(30, 89)} ${pad(int(0, 9_999_999), 7)}`,
      loyaltyTier: points > 9000 ? 'PLATINUM' : points > 5000 ? 'GOLD' : points > 2000 ? 'SILVER' : 'BRONZE',
      loyaltyPoints: points,
      consentEmail: chance(0.6),
      consentSms: chance(0.3),
      createdAt: new Date(anchor - int(200, 2000) * DAY).toISOString(),
    });
  }

  // Orders across channels, with their fulfilment, money and events
  const orders: OrderRecord[] = [];
  const shipments: ShipmentRecord[] = [];
  const returns: ReturnRecord[] = [];
  const payments: PaymentRecord[] = [];
  const refunds: RefundRecord[] = [];
  const invoices: InvoiceRecord[] = [];
  const postings: PostingRecord[] = [];
  const events: CanonicalEvent[] = [];
  const pickupStores = stores.filter((s) => s.pickupEnabled);
  const orderCount = Math.max(50, Math.round(10000 * scale));
  let webSeq = 0;
  let storeSeq = 0;
  let invoiceSeq = 0;
  let docSeq = 0;

  for (let o = 1; o <= orderCount; o++) {
    const roll = rand();
    const channel: Channel = roll < 0.45 ? 'WEB' : roll < 0.7 ? 'MOBILE' : roll < 0.88 ? 'STORE' : roll < 0.94 ? 'MARKETPLACE' : 'CALL_CENTER';
    const isStoreChannel = channel === 'STORE';
    let deliveryMethod: DeliveryMethod;
    if (isStoreChannel) deliveryMethod = chance(0.85) ? 'PICKUP' : 'SHIP_FROM_STORE';
    else deliveryMethod = chance(0.6) ? 'SHIPPING' : chance(0.75) ? 'PICKUP' : 'SHIP_FROM_STORE';
    // Recent orders are denser so that pickup queues and open shipments are never empty.
    const ageMs = chance(0.06) ? Math.floor(rand() * 3 * DAY) : Math.floor(rand() * 180 * DAY);
    const placed = anchor - ageMs;
    const store = pick(isStoreChannel ? stores : pickupStores);
    const pickupLocationId = deliveryMethod === 'PICKUP' ? store.id : null;
    const fulfillmentLocationId = deliveryMethod === 'SHIPPING' ? pick(warehouses).id : store.id;
    const lineCount = o === 7 ? 20 : o === 8 ? 2 : chance(0.01) ? int(10, 20) : int(1, 4);
    const lines: OrderLineRecord[] = [];
    const used = new Set<string>();
    for (let l = 0; l < lineCount; l++) {
      let variant = pick(variants);
      while (used.has(variant.sku)) variant = pick(variants);
      used.add(variant.sku);
      lines.push({ sku: variant.sku, quantity: chance(0.8) ? 1 : int(2, 3), unitPriceMinor: variant.priceMinor });
    }
    const totalMinor = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
    const customerId = isStoreChannel && chance(0.3) ? null : (pick(customers).id);
    const id = isStoreChannel ? `ord-s${pad(++storeSeq, 6)}` : `ord-w${pad(++webSeq, 6)}`;
    const number = isStoreChannel ? `S${pad(1_000_000 + storeSeq, 7)}` : `W${pad(1_000_000 + webSeq, 7)}`;
    const correlationId = uuid();

    // Where in its life the order is, from its age.
    const ageDays = ageMs / DAY;
    let status: OrderStatus;
    if (isStoreChannel && deliveryMethod === 'PICKUP') status = 'PICKED_UP'; // a till sale hands over at once
    else if (chance(0.04)) status = 'CANCELLED';
    else if (deliveryMethod === 'PICKUP') status = ageDays < 1 ? (chance(0.5) ? 'CONFIRMED' : 'READY_FOR_PICKUP') : ageDays < 3 ? (chance(0.5) ? 'READY_FOR_PICKUP' : 'PICKED_UP') : 'PICKED_UP';
    else status = ageDays < 0.5 ? 'CONFIRMED' : ageDays < 4 ? 'SHIPPED' : 'DELIVERED';
    const fulfilled = status === 'PICKED_UP' || status === 'DELIVERED';
    if (fulfilled && ageDays > 10 && chance(0.06)) status = chance(0.5) ? 'RETURNED' : 'PARTIALLY_RETURNED';

    const order: OrderRecord = { id, number, customerId, channel, deliveryMethod, status, pickupLocationId, fulfillmentLocationId, lines, currency: 'EUR', totalMinor, placedAt: new Date(placed).toISOString(), correlationId };
    orders.push(order);

    let seq = 0;
    let clock = placed;
    const at = (minutes: number) => {
      clock += Math.max(1, Math.round(minutes * 60_000));
      return new Date(Math.min(clock, anchor)).toISOString();
    };
    const orderSource: EventSource = channel === 'STORE' ? 'POS' : channel === 'MOBILE' ? 'MOBILE' : 'WEB';
    const stockSource: EventSource = fulfillmentLocationId.startsWith('wh-') ? 'WMS' : 'POS';
    const emit = <T extends EventType>(type: T, source: EventSource, occurredAt: string, data: EventDataByType[T], extra: { sku?: string; locationId?: string } = {}) => {
      events.push(createEvent(type, data, { id: `evt-${id}-${pad(++seq, 2)}`, source, occurredAt, correlationId, orderId: id, ...extra }));
    };
    // The order's status as its events move it, so that each event names its move as live ones do.
    let current: OrderStatusName | null = null;
    const move = (to: OrderStatusName): StatusMove => {
      const moved = { previousStatus: current, status: to };
      current = to;
      return moved;
    };
    const soldLines = lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));
    const posting = (type: PostingRecord['type'], amountMinor: number, when: string) => {
      const failed = chance(0.01);
      const attempts = failed ? 8 : chance(0.1) ? 2 : 1;
      const record: PostingRecord = {
        id: `post-${id}-${type.toLowerCase()}-${postings.length + 1}`,
        orderId: id,
        type,
        status: failed ? 'DEAD_LETTER' : 'POSTED',
        attempts,
        amountMinor,
        currency: 'EUR',
        erpDocumentNumber: failed ? null : `FI-${pad(++docSeq, 8)}`,
        lastError: failed ? pick(['ERP rejected: posting period closed', 'ERP rejected: cost centre blocked', 'timeout after 30000 ms']) : null,
        postedAt: failed ? null : at(30 * attempts),
        createdAt: when,
      };
      postings.push(record);
      if (failed) emit('POSTING_FAILED', 'ERP', at(60), { postingId: record.id, type, amount: amountMinor, currency: 'EUR', error: record.lastError ?? '', attempts });
      else emit('JOURNAL_POSTED', 'ERP', record.postedAt ?? when, { postingId: record.id, type, amount: amountMinor, currency: 'EUR', documentNumber: record.erpDocumentNumber, attempts });
    };

    const placedIso = new Date(placed).toISOString();
    emit('ORDER_PLACED', orderSource, placedIso, { ...move('PLACED'), number, channel, deliveryMethod, total: totalMinor, currency: 'EUR', lines: lines.length, customerId, pickupLocationId, fulfillmentLocationId });
    for (const line of lines) emit('INVENTORY_RESERVED', stockSource, at(0.02), { quantity: line.quantity }, { sku: line.sku, locationId: fulfillmentLocationId });
    const method: PaymentRecord['method'] = isStoreChannel ? (chance(0.3) ? 'CASH' : 'CARD') : pick(['CARD', 'CARD', 'PAYPAL', 'KLARNA', 'GIFT_CARD'] as const);
    const payment: PaymentRecord = { id: `pay-${id}`, orderId: id, status: 'AUTHORIZED', method, amountMinor: totalMinor, currency: 'EUR', createdAt: at(0.05) };
    payments.push(payment);
    emit('PAYMENT_AUTHORIZED', 'PSP', payment.createdAt, { paymentId: payment.id, amount: totalMinor, currency: 'EUR', method });
    emit('ORDER_CONFIRMED', orderSource, at(0.05), move('CONFIRMED'));

    if (status === 'CANCELLED') {
      payment.status = 'VOIDED';
      emit('ORDER_CANCELLED', orderSource, at(int(5, 600)), { ...move('CANCELLED'), reason: pick(['Customer request', 'Payment review', 'Item unavailable']), paymentVoided: true });
      for (const line of lines) emit('INVENTORY_RELEASED', stockSource, at(0.02), { quantity: line.quantity, reason: 'CANCELLED' }, { sku: line.sku, locationId: fulfillmentLocationId });
      continue;
    }
    if (deliveryMethod === 'PICKUP') {
      if (status !== 'CONFIRMED') emit('READY_FOR_PICKUP', 'POS', at(isStoreChannel ? 0.1 : int(30, 300)), move('READY_FOR_PICKUP'), { locationId: store.id });
      if (status !== 'CONFIRMED' && status !== 'READY_FOR_PICKUP') {
        emit('PICKED_UP', 'POS', at(isStoreChannel ? 0.1 : int(120, 2880)), { ...move('PICKED_UP'), total: totalMinor, currency: 'EUR', lines: soldLines }, { locationId: store.id });
      }
    } else if (status !== 'CONFIRMED') {
      const shippedAt = at(int(60, 1440));
      const delivered = status !== 'SHIPPED';
      const deliveredAt = delivered ? at(int(1000, 4000)) : null;
      const shipment = { id: `shp-${id}`, orderId: id, status: delivered ? ('DELIVERED' as const) : ('SHIPPED' as const), carrier: pick(CARRIERS), trackingNumber: `${hex(4).toUpperCase()}${pad(int(0, 99_999_999), 8)}`, shippedAt, deliveredAt };
      shipments.push(shipment);
      const shipped = { ...move('SHIPPED'), shipmentId: shipment.id, carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, total: totalMinor, currency: 'EUR', lines: soldLines };
      emit('ORDER_SHIPPED', 'WMS', shippedAt, shipped, { locationId: fulfillmentLocationId });
      if (deliveredAt) emit('ORDER_DELIVERED', 'WMS', deliveredAt, { ...move('DELIVERED'), shipmentId: shipment.id });
    } else {
      shipments.push({ id: `shp-${id}`, orderId: id, status: 'PENDING', carrier: pick(CARRIERS), trackingNumber: '', shippedAt: null, deliveredAt: null });
    }
    const handedOver = status !== 'CONFIRMED' && status !== 'READY_FOR_PICKUP';
    if (!handedOver) continue;

    // Sale: capture, invoice, journal posting.
    payment.status = 'CAPTURED';
    const invoiceAt = at(1);
    const invoice: InvoiceRecord = { id: `inv-${id}`, orderId: id, number: `INV-2026-${pad(++invoiceSeq, 6)}`, status: 'PAID', totalMinor, currency: 'EUR', issuedAt: invoiceAt };
    invoices.push(invoice);
    emit('INVOICE_ISSUED', 'ERP', invoiceAt, { invoiceId: invoice.id, number: invoice.number, total: totalMinor, currency: 'EUR' });
    posting('SALE', totalMinor, invoiceAt);

    if (status === 'RETURNED' || status === 'PARTIALLY_RETURNED') {
      const returnedLines = status === 'RETURNED' ? lines : lines.slice(0, Math.max(1, Math.floor(lines.length / 2)));
      const partial = status === 'PARTIALLY_RETURNED' && returnedLines.length === lines.length;
      const returnLines = returnedLines.map((l) => ({ sku: l.sku, quantity: partial ? Math.max(1, l.quantity - 1) : l.quantity }));
      if (partial && returnLines.every((l, i) => l.quantity === lines[i]!.quantity)) order.status = 'RETURNED';
      const amount = returnLines.reduce((sum, l) => sum + l.quantity * (lines.find((x) => x.sku === l.sku)!.unitPriceMinor), 0);
      const requestedAt = at(int(1440, 10000));
      const receivedAt = at(int(1440, 5000));
      const reason = pick(RETURN_REASONS);
      returns.push({ id: `ret-${id}`, orderId: id, status: 'REFUNDED', reason, lines: returnLines, requestedAt, receivedAt });
      emit('RETURN_REQUESTED', orderSource, requestedAt, { returnId: `ret-${id}`, reason, lines: returnLines });
      emit('RETURN_RECEIVED', stockSource, receivedAt, { ...move(order.status), returnId: `ret-${id}`, condition: null, lines: returnLines }, { locationId: fulfillmentLocationId });
      const refundAt = at(30);
      refunds.push({ id: `ref-${id}`, orderId: id, status: 'SUCCEEDED', amountMinor: amount, currency: 'EUR', reason, createdAt: refundAt });
      emit('REFUND_ISSUED', 'PSP', refundAt, { refundId: `ref-${id}`, amount, currency: 'EUR', returnId: `ret-${id}` });
      if (order.status === 'RETURNED') invoice.status = 'CREDITED';
      posting('RETURN', amount, refundAt);
    }
  }

  return { products, variants, stores, warehouses, stock, policies, customers, orders, shipments, returns, payments, refunds, invoices, postings, events };
}
