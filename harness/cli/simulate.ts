// Placeholder until the live fleet (issue 3) lands: says so plainly instead of pretending to run.
console.error('camfleet simulate: not built yet (the live fleet end to end is the next issue). Try `npm run migrate -- --help`.');
process.exit(2);
