import pg from "pg";

/**
 * Fills `customers` with `rows` customer-like rows, generated in SQL so that a million rows take
 * seconds: every value is varied by the row's id and has the shape a detector looks for (emails,
 * phones, Luhn-valid card numbers, SSNs that pass the SSA rules), so masking does its real work.
 * Then VACUUM ANALYZE, so the scan the benchmark times reads settled, visible pages.
 */
export async function createCustomers(url: string, rows: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(CREATE);
    await client.query(LUHN_FUNCTION);
    await client.query(INSERT, [rows]);
    await client.query("drop function luhn_check_digit(text)");
    await client.query("vacuum analyze customers");
  } finally {
    await client.end();
  }
}

/** The raw values of row `id`, as INSERT writes them: what must never come back through masking. */
export function rawEmail(id: number): string {
  return `user${id}@example.com`;
}

const CARDS = 10_000;

const CREATE = `
  create table customers (
    id int, name text, email text, phone text, card_number text, ssn text, country text, created_at timestamptz
  )`;

/** The digit that makes a 15-digit number Luhn-valid: every other digit from the right, doubled. */
const LUHN_FUNCTION = `
  create function luhn_check_digit(payload text) returns text language sql immutable as $$
    select ((10 - sum(case when k % 2 = 1 then (d * 2) / 10 + (d * 2) % 10 else d end) % 10) % 10)::text
    from (select substr(payload, 16 - k, 1)::int as d, k from generate_series(1, 15) as k) as digits
  $$`;

/**
 * 10,000 distinct card numbers, made once and shared by the rows (a Luhn digit per row would take
 * half a minute), under five issuers' prefixes.
 */
const INSERT = `
  with cards as materialized (
    select k, substr(card, 1, 4) || ' ' || substr(card, 5, 4) || ' ' || substr(card, 9, 4) || ' ' || substr(card, 13, 4) as card
    from generate_series(0, ${CARDS - 1}) as k,
      lateral (select payload || luhn_check_digit(payload) as card
               from (select (array['4242','4000','5555','5105','4111'])[1 + k % 5] || lpad((k * 104729)::text, 11, '0') as payload) as p) as c
  )
  insert into customers
  select
    i,
    (array['Alice','Bruno','Chen','Dana','Emeka','Fatima','Giulia','Hiro','Ines','Jonas'])[1 + i % 10]
      || ' ' || (array['Smith','Okafor','Rossi','Tanaka','Novak','Garcia','Müller','Dubois','Kowalski','Silva','Haddad'])[1 + i % 11],
    'user' || i || '@example.com',
    '+1 ' || (array['415','212','646','312','617','206','303'])[1 + i % 7] || '-555-' || lpad((i % 10000)::text, 4, '0'),
    cards.card,
    lpad((1 + i % 665)::text, 3, '0') || '-' || lpad((1 + i % 99)::text, 2, '0') || '-' || lpad((1 + i % 9999)::text, 4, '0'),
    (array['US','GB','DE','FR','NL','CA','AU','JP','BR','IN','ES','SE'])[1 + i % 12],
    timestamptz '2019-01-01 00:00:00+00' + i * interval '97 seconds'
  from generate_series(1, $1::int) as i
  join cards on cards.k = i % ${CARDS}`;
