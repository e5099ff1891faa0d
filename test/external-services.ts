// The services our machines run beside the tests (DEVELOPERS.md): a PostgreSQL 15 with trust auth and Mosquitto.
export const defaultExternalPgUrl = 'postgres://postgres@127.0.0.1:5432/test';
export const defaultExternalMqttUrl = 'mqtt://127.0.0.1:1883';
