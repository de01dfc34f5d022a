package dbtest

import (
	"fmt"
	"testing"
)

// Fill creates the test schema in db: customers, orders and attachments, with rows
// customers, 2×customers and customers/5 rows, holding JSON, exact decimals, binary
// data, timestamps with time zone and text beyond ASCII (accents, CJK, emoji).
func (s *Server) Fill(t testing.TB, db string, customers int) {
	t.Helper()
	s.Exec(t, db, FillSQL(s.Engine, customers))
}

// FillSQL is the script Fill runs.
func FillSQL(engine string, customers int) string {
	if engine == "postgres" {
		return fmt.Sprintf(pgFill, customers, 2*customers, customers/5)
	}
	return fmt.Sprintf(myFill, customers, 2*customers, customers/5)
}

// ChangePercent updates about pct percent of the orders, in one run of ids, as an
// application that works on its recent rows would, and inserts a few new orders.
func (s *Server) ChangePercent(t testing.TB, db string, customers int, pct float64) {
	t.Helper()
	s.Exec(t, db, ChangeSQL(customers, pct))
}

// ChangeSQL is the statement ChangePercent runs.
func ChangeSQL(customers int, pct float64) string {
	orders := 2 * customers
	n := int(float64(orders) * pct / 100)
	from := orders / 2
	return fmt.Sprintf("UPDATE orders SET amount = amount + 1, "+
		"note = CONCAT(note, ' (changed)') WHERE id > %d AND id <= %d", from, from+n)
}

// ScatterSQL updates every nth order: changes spread evenly over a table, the worst case
// for deduplication, since nearly every chunk holds one.
func ScatterSQL(n int) string {
	return fmt.Sprintf("UPDATE orders SET amount = amount + 1 WHERE id %% %d = 7", n)
}

const pgFill = `
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text,
  balance numeric(20,6), created timestamptz NOT NULL, profile jsonb);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id),
  amount numeric(14,2), placed timestamptz, note text);
CREATE TABLE attachments (id bigint PRIMARY KEY, order_id bigint, data bytea);
INSERT INTO customers SELECT g, 'Ñame ' || g || ' 日本語 😀 ' || md5(g::text),
  'user' || g || '@example.com', (g * 7919 %% 1000003) / 997.0 - 500,
  timestamptz '2024-01-01 00:00:00.123456+02' + g * interval '37.001 seconds',
  jsonb_build_object('tier', g %% 5, 'tags', jsonb_build_array('a' || g %% 13, 'ü'),
    'score', g * 1.5, 'nested', jsonb_build_object('k', 'v"q\'))
  FROM generate_series(1, %d) g;
INSERT INTO orders SELECT g, 1 + g %% %[1]d, (g * 31 %% 100000) / 100.0,
  timestamptz '2024-02-01 00:00+00' + g * interval '11 seconds',
  repeat('note ' || g || E' tab\t', 1 + g %% 4) FROM generate_series(1, %d) g;
INSERT INTO attachments SELECT g, g * 9,
  decode(md5(g::text) || '00ff0a0d5c27' || md5((g + 1)::text), 'hex')
  FROM generate_series(1, %d) g;
`

const myFill = `
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email varchar(200),
  balance decimal(20,6), created datetime(6) NOT NULL, profile json)
  DEFAULT CHARSET = utf8mb4;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, amount decimal(14,2),
  placed timestamp(6) NULL, note text) DEFAULT CHARSET = utf8mb4;
CREATE TABLE attachments (id bigint PRIMARY KEY, order_id bigint, data blob);
SET time_zone = '+02:00';
INSERT INTO customers SELECT seq, CONCAT('Ñame ', seq, ' 日本語 😀 ', MD5(seq)),
  CONCAT('user', seq, '@example.com'), (seq * 7919 %% 1000003) / 997.0 - 500,
  TIMESTAMP '2024-01-01 00:00:00.123456' + INTERVAL seq * 37001 MICROSECOND,
  JSON_OBJECT('tier', seq %% 5, 'tags', JSON_ARRAY(CONCAT('a', seq %% 13), 'ü'),
    'score', seq * 1.5, 'nested', JSON_OBJECT('k', 'v"q\\'))
  FROM seq_1_to_%d;
INSERT INTO orders SELECT seq, 1 + seq %% %[1]d, (seq * 31 %% 100000) / 100.0,
  TIMESTAMP '2024-02-01 00:00:00' + INTERVAL seq * 11 SECOND,
  REPEAT(CONCAT('note ', seq, ' tab\t'), 1 + seq %% 4) FROM seq_1_to_%d;
INSERT INTO attachments SELECT seq, seq * 9,
  UNHEX(CONCAT(MD5(seq), '00ff0a0d5c27', MD5(seq + 1))) FROM seq_1_to_%d;
`
