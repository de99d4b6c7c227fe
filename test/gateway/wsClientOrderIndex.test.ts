// ClientOrderIndex: open orders by (account, symbol, client order id), for Amend by client order id.
import t from 'tap';
import { ClientOrderIndex } from '../../gateway/ws/ClientOrderIndex.js';

t.test('add, get, remove only the order the entry points at', async (t) => {
  const ix = new ClientOrderIndex();
  ix.add(1, 7, 42, 1001);
  ix.add(1, 8, 42, 1002);
  ix.add(2, 7, 42, 1003);
  ix.add(1, 7, 0, 1004);
  t.equal(ix.size, 3, 'client order id 0 is not indexed');
  t.equal(ix.get(1, 7, 42), 1001);
  t.equal(ix.get(1, 8, 42), 1002, 'per symbol');
  t.equal(ix.get(2, 7, 42), 1003, 'per account');
  t.equal(ix.get(3, 7, 42), 0);
  ix.add(1, 7, 42, 1005); // the id reused by a newer order after the first closed
  ix.remove(1, 7, 42, 1001);
  t.equal(ix.get(1, 7, 42), 1005, 'a stale close leaves the newer order');
  ix.remove(1, 7, 42, 1005);
  ix.remove(1, 8, 42, 1002);
  ix.remove(2, 7, 42, 1003);
  ix.remove(9, 9, 9, 9);
  ix.remove(1, 7, 0, 1);
  t.equal(ix.size, 0);
});
