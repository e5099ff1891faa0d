// Placeholder until the live fleet (issue 3) lands: says so plainly instead of pretending to run.
console.error('camfleet pipeline: not built yet (the reference ingestion pipeline is the next issue). Try `npm run migrate -- --help`.');
process.exit(2);
