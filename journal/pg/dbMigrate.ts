/**
 * `npm run db:migrate`: applies the journal's migrations to the configured database (DATABASE_URL,
 * or the embedded server under DATA_DIR, started for the run and stopped after) and exits.
 * DB=none has nothing to migrate. Thread-safety: a one-shot command.
 */
import { loadConfig, loadDotEnv } from '../../gateway/config/config.js';
import { openDatabase } from './Database.js';

loadDotEnv();
const config = loadConfig();
if (config.database === 'none') {
  console.log('DB=none: no database to migrate');
} else {
  const db = await openDatabase(config, (m) => console.log(m));
  console.log(`database migrated (${config.database})`);
  await db?.stop();
}
