// The rows of the embedded demo database ("a small shop"). Everything derives from a fixed seed so
// every install, test and screenshot sees the same customers, orders and refunds.

export interface DemoCustomer {
  id: number;
  name: string;
  email: string;
  phone: string;
  card_number: string;
  ssn: string;
  country: string;
  created_at: string;
}

export interface DemoProduct {
  id: number;
  sku: string;
  name: string;
  category: string;
  price_cents: number;
}

export const DEMO_ORDER_STATUSES = ["placed", "paid", "shipped", "delivered", "cancelled"] as const;
export type DemoOrderStatus = (typeof DEMO_ORDER_STATUSES)[number];

export interface DemoOrder {
  id: number;
  order_number: number;
  customer_id: number;
  product_id: number;
  quantity: number;
  total_cents: number;
  status: DemoOrderStatus;
  created_at: string;
}

export interface DemoRefund {
  id: number;
  order_id: number;
  amount_cents: number;
  reason: string;
  created_at: string;
}

export interface DemoData {
  readonly customers: readonly DemoCustomer[];
  readonly products: readonly DemoProduct[];
  readonly orders: readonly DemoOrder[];
  readonly refunds: readonly DemoRefund[];
}

export const DEMO_COUNTS = { customers: 1000, orders: 3000, refunds: 150 } as const;

// Changing the seed changes every row; the test suite pins a fingerprint of the output.
const SEED = 0x5eed_a1c0;

type Rng = () => number;
type Weighted<T> = readonly (readonly [T, number])[];

function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// One stream per table, so adding a column to one table does not reshuffle the others.
function streamFor(table: string): Rng {
  let hash = 0x811c9dc5;
  for (const ch of table) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193);
  return mulberry32(SEED ^ hash);
}

function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

function pickWeighted<T>(rng: Rng, choices: Weighted<T>): T {
  let roll = rng() * choices.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [value, weight] of choices) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return choices[choices.length - 1][0];
}

function digits(rng: Rng, count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += String(intBetween(rng, 0, 9));
  return out;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

// Whole seconds, no milliseconds: the text looks the same in JSON, psql and the UI.
function isoAt(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

const DAY_MS = 86_400_000;
const YEAR_2025 = Date.UTC(2025, 0, 1);
const YEAR_2026 = Date.UTC(2026, 0, 1);
const CUSTOMERS_SINCE = Date.UTC(2023, 0, 1);

// Apostrophes and accents on purpose: they exercise SQL quoting and UTF-8 through the proxy.
const FIRST_NAMES = [
  "Maria", "James", "Aisha", "Wei", "Lucas", "Sofia", "Mohammed", "Emma", "Noah", "Chloé",
  "Kenji", "Olivia", "Mateo", "Priya", "Liam", "Hannah", "Ahmed", "Isabella", "Oliver", "Yuki",
  "Elena", "Daniel", "Fatima", "Samuel", "Zoe", "Jonas", "Amara", "Luca", "Ingrid", "Diego",
];
const LAST_NAMES = [
  "Garcia", "Smith", "Johnson", "Müller", "Rossi", "Dubois", "Tanaka", "Kim", "Nguyen", "O'Brien",
  "Patel", "Silva", "Jansen", "Kowalski", "Brown", "Martin", "Schmidt", "López", "Wilson", "Chen",
  "Novak", "D'Angelo", "Andersson", "Khan", "Okafor", "Murphy", "Bernard", "Sato", "Fischer", "Hughes",
];
const EMAIL_DOMAINS = ["example.com", "example.org", "mail.example.net"];

const COUNTRIES: Weighted<string> = [
  ["US", 40], ["CA", 8], ["GB", 10], ["DE", 8], ["FR", 7], ["ES", 5], ["IT", 5], ["NL", 5], ["AU", 6], ["JP", 6],
];

// US/CA 555-01xx, UK 020 7946 0xxx and AU 02 5550 xxxx are ranges reserved for fiction.
const PHONE_FORMATS: Record<string, (rng: Rng) => string> = {
  US: (r) => `+1 ${pick(r, ["415", "212", "312", "206", "617", "512"])}-555-01${digits(r, 2)}`,
  CA: (r) => `+1 ${pick(r, ["416", "604", "514"])}-555-01${digits(r, 2)}`,
  GB: (r) => `+44 20 7946 0${digits(r, 3)}`,
  DE: (r) => `+49 30 ${digits(r, 8)}`,
  FR: (r) => `+33 1 ${digits(r, 2)} ${digits(r, 2)} ${digits(r, 2)} ${digits(r, 2)}`,
  ES: (r) => `+34 91 ${digits(r, 3)} ${digits(r, 2)} ${digits(r, 2)}`,
  IT: (r) => `+39 06 ${digits(r, 4)} ${digits(r, 4)}`,
  NL: (r) => `+31 20 ${digits(r, 3)} ${digits(r, 4)}`,
  AU: (r) => `+61 2 5550 ${digits(r, 4)}`,
  JP: (r) => `+81 3-${digits(r, 4)}-${digits(r, 4)}`,
};

// Issuer prefixes of well-known test cards: mostly Visa and Mastercard, a little Discover.
const CARD_PREFIXES: Weighted<string> = [
  ["4242", 30], ["4000", 20], ["4111", 15], ["5555", 15], ["5105", 10], ["2223", 5], ["6011", 5],
];

function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let digit = Number(body[body.length - 1 - i]);
    // Counting from the check digit that will follow, every second digit is doubled.
    if (i % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

function cardNumber(rng: Rng): string {
  const body = pickWeighted(rng, CARD_PREFIXES) + digits(rng, 11);
  return (body + luhnCheckDigit(body)).replace(/(\d{4})(?=\d)/g, "$1 ");
}

// Valid by the SSA rules, so a detector has to treat them as real: area not 000, 666 or 9xx.
function ssn(rng: Rng): string {
  let area: number;
  do area = intBetween(rng, 1, 899);
  while (area === 666);
  return `${pad(area, 3)}-${pad(intBetween(rng, 1, 99), 2)}-${pad(intBetween(rng, 1, 9999), 4)}`;
}

function emailLocal(first: string, last: string): string {
  const ascii = (s: string) => s.normalize("NFD").replace(/[^A-Za-z]/g, "").toLowerCase();
  return `${ascii(first)}.${ascii(last)}`;
}

function buildCustomers(): DemoCustomer[] {
  const rng = streamFor("customers");
  const emails = new Set<string>();
  const customers: DemoCustomer[] = [];
  for (let id = 1; id <= DEMO_COUNTS.customers; id++) {
    const first = pick(rng, FIRST_NAMES);
    const last = pick(rng, LAST_NAMES);
    let email: string;
    do email = `${emailLocal(first, last)}${intBetween(rng, 1, 99)}@${pick(rng, EMAIL_DOMAINS)}`;
    while (emails.has(email));
    emails.add(email);
    const country = pickWeighted(rng, COUNTRIES);
    const phone = PHONE_FORMATS[country](rng);
    const created_at = isoAt(intBetween(rng, CUSTOMERS_SINCE, YEAR_2025 - 1));
    customers.push({ id, name: `${first} ${last}`, email, phone, card_number: cardNumber(rng), ssn: ssn(rng), country, created_at });
  }
  return customers;
}

// Price ranges in whole currency units; every price ends in .99 or .49 like a shop's would.
const CATALOG: readonly { category: string; min: number; max: number; names: readonly string[] }[] = [
  {
    category: "Apparel", min: 12, max: 180,
    names: ["Merino Crew Sweater", "Rain Shell Jacket", "Canvas Sneakers", "Wool Beanie", "Linen Shirt", "Trail Socks (3-pack)", "Denim Jacket", "Organic Cotton Tee"],
  },
  {
    category: "Kitchen", min: 9, max: 160,
    names: ["Cast Iron Skillet", "Pour-Over Coffee Set", "Chef's Knife 8\"", "Bamboo Cutting Board", "Ceramic Mug Set", "Dutch Oven 5qt", "Espresso Tamper", "Spice Rack"],
  },
  {
    category: "Electronics", min: 19, max: 199,
    names: ["Wireless Earbuds", "USB-C Charger 65W", "Mechanical Keyboard", "E-Reader", "Portable Speaker", "Smart Plug (2-pack)", "Webcam 1080p", "Power Bank 10000mAh"],
  },
  {
    category: "Books", min: 9, max: 45,
    names: ["The Patient Gardener", "Sourdough at Home", "A Field Guide to Clouds", "Rust for Busy People", "The Quiet Database", "Maps of Nowhere", "Knots & Hitches", "The Night Train"],
  },
  {
    category: "Outdoors", min: 15, max: 190,
    names: ["Camping Lantern", "Trekking Poles", "2-Person Tent", "Insulated Bottle 750ml", "Travel Hammock", "Daypack 22L", "Sleeping Pad", "Headlamp"],
  },
];

function buildProducts(): DemoProduct[] {
  const rng = streamFor("products");
  const products: DemoProduct[] = [];
  let sku = 10_000;
  for (const { category, min, max, names } of CATALOG) {
    for (const name of names) {
      sku += intBetween(rng, 1, 40);
      const price_cents = intBetween(rng, min, max) * 100 - pick(rng, [1, 51]);
      products.push({ id: products.length + 1, sku: `SKU-${sku}`, name, category, price_cents });
    }
  }
  return products;
}

const ORDER_STATUSES: Weighted<DemoOrderStatus> = [
  ["delivered", 50], ["shipped", 15], ["paid", 15], ["placed", 10], ["cancelled", 10],
];

// Order numbers start with 9 so that, even read as nine bare digits, they fail the SSN rules
// (area 9xx); an order number must never be mistaken for sensitive data by a detector.
function orderNumber(rng: Rng): number {
  return 900_000_000 + intBetween(rng, 0, 99_999_999);
}

function buildOrders(customers: readonly DemoCustomer[], products: readonly DemoProduct[]): DemoOrder[] {
  const rng = streamFor("orders");
  const numbers = new Set<number>();
  const drafts = Array.from({ length: DEMO_COUNTS.orders }, () => {
    let order_number: number;
    do order_number = orderNumber(rng);
    while (numbers.has(order_number));
    numbers.add(order_number);
    const product = pick(rng, products);
    const quantity = pickWeighted(rng, [[1, 60], [2, 20], [3, 10], [4, 6], [5, 4]] as const);
    return {
      order_number,
      customer_id: pick(rng, customers).id,
      product_id: product.id,
      quantity,
      total_cents: product.price_cents * quantity,
      status: pickWeighted(rng, ORDER_STATUSES),
      ms: intBetween(rng, YEAR_2025, YEAR_2026 - 1),
    };
  });
  // Ids follow time, as they would in a real shop.
  drafts.sort((a, b) => a.ms - b.ms || a.order_number - b.order_number);
  return drafts.map(({ ms, ...order }, i) => ({ id: i + 1, ...order, created_at: isoAt(ms) }));
}

const REFUND_REASONS = [
  "Damaged in transit", "Wrong size", "Item not as described", "Arrived late",
  "Customer's mind changed", "Duplicate order", "Missing parts",
];

function buildRefunds(orders: readonly DemoOrder[]): DemoRefund[] {
  const rng = streamFor("refunds");
  const eligible = orders.filter((o) => o.status === "delivered" || o.status === "shipped" || o.status === "cancelled");
  // A partial Fisher–Yates shuffle: distinct orders, one refund each.
  for (let i = 0; i < DEMO_COUNTS.refunds; i++) {
    const j = intBetween(rng, i, eligible.length - 1);
    [eligible[i], eligible[j]] = [eligible[j], eligible[i]];
  }
  const drafts = eligible.slice(0, DEMO_COUNTS.refunds).map((order) => {
    // A cancelled order that was refunded had been paid in full and is refunded in full.
    const cancelled = order.status === "cancelled";
    const full = cancelled || rng() < 0.6;
    const amount_cents = full ? order.total_cents : Math.round((order.total_cents * intBetween(rng, 10, 90)) / 100);
    const reason = cancelled ? "Cancelled after payment" : pick(rng, REFUND_REASONS);
    const ms = Date.parse(order.created_at) + intBetween(rng, 3_600_000, 30 * DAY_MS);
    return { order_id: order.id, amount_cents, reason, ms };
  });
  drafts.sort((a, b) => a.ms - b.ms || a.order_id - b.order_id);
  return drafts.map(({ ms, ...refund }, i) => ({ id: i + 1, ...refund, created_at: isoAt(ms) }));
}

// Frozen because the memoized rows are shared by every caller.
function frozen<T extends object>(rows: T[]): readonly T[] {
  return Object.freeze(rows.map((row) => Object.freeze(row)));
}

let cached: DemoData | undefined;

export function demoData(): DemoData {
  if (!cached) {
    const customers = buildCustomers();
    const products = buildProducts();
    const orders = buildOrders(customers, products);
    const refunds = buildRefunds(orders);
    cached = Object.freeze({ customers: frozen(customers), products: frozen(products), orders: frozen(orders), refunds: frozen(refunds) });
  }
  return cached;
}
