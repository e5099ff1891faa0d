// Where a run's broker and database are: the same two options on every command that runs a fleet.
export const worldOptions = {
  'broker-url': {
    type: 'string',
    default: process.env.MQTT_URL,
    defaultDescription: '$MQTT_URL, else aedes in-process',
    describe: 'MQTT broker to use',
  },
  'database-url': {
    type: 'string',
    default: process.env.DATABASE_URL,
    defaultDescription: '$DATABASE_URL, else embedded',
    describe: 'Postgres server; each run creates and drops its own database there',
  },
} as const;
