// Writes a Trello board export ("Export as JSON") of about SIZE_MB megabytes to stdout, shaped
// like the real ones (lists, cards with pos, labels with and without names, archived cards,
// members, checklists, commentCard actions), for timing `warroom import`.
//
//   node bench/import/make-trello-export.mjs 20 > /tmp/trello-20mb.json
const target = Number(process.argv[2] ?? 20) * 1024 * 1024;
const lists = ['To Do', 'Doing', 'Review', 'Done', 'Ideas'].map((name, i) => ({ id: `list${i}`, name, closed: false, pos: (i + 1) * 16384 }));
const labels = [
  { id: 'lab0', name: 'Bug', color: 'red' }, { id: 'lab1', name: 'Feature', color: 'green' },
  { id: 'lab2', name: '', color: 'blue' }, { id: 'lab3', name: 'Ops', color: 'orange' },
];
const members = Array.from({ length: 12 }, (_, i) => ({ id: `m${i}`, fullName: `Member ${i}`, username: `member${i}` }));
const words = 'plan ship review test deploy write fix measure design index cache query board card agent'.split(' ');
const text = (n, seed) => Array.from({ length: n }, (_, i) => words[(seed * 7 + i * 3) % words.length]).join(' ');
const cards = [];
const checklists = [];
const actions = [];
let size = 0;
for (let i = 0; size < target; i += 1) {
  const card = {
    id: `card${i}`, name: `Card ${i}: ${text(6, i)}`, desc: text(60 + (i % 40), i), closed: i % 23 === 0,
    idList: lists[i % lists.length].id, pos: 65536 + i * 1024, due: i % 5 === 0 ? '2027-06-01T12:00:00.000Z' : null,
    idMembers: i % 3 === 0 ? [members[i % members.length].id] : [],
    labels: [labels[i % labels.length], labels[(i + 1) % labels.length]], idLabels: [],
  };
  cards.push(card);
  if (i % 4 === 0) {
    checklists.push({ id: `cl${i}`, idCard: card.id, name: 'Steps', checkItems: [
      { id: `ci${i}a`, name: text(5, i + 1), state: 'complete', pos: 1 },
      { id: `ci${i}b`, name: text(5, i + 2), state: 'incomplete', pos: 2 },
    ] });
  }
  for (let c = 0; c < i % 4; c += 1) {
    actions.push({ id: `a${i}-${c}`, type: 'commentCard', date: '2026-11-01T10:00:00.000Z',
      memberCreator: { id: members[c].id, fullName: members[c].fullName }, data: { text: text(25, i + c), card: { id: card.id } } });
  }
  size += JSON.stringify(card).length + (i % 4 === 0 ? 250 : 0) + (i % 4) * 330;
}
process.stdout.write(JSON.stringify({ id: 'bench-board', name: 'Import benchmark', desc: '', closed: false, labels, lists, members, cards, checklists, actions }));
