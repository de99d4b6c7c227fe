/**
 * Worker entry of the journal (`JournalLoop.runJournal`): started once per process by
 * `engine/pipeline.ts` when the pipeline has a journal, from `dist/` as JavaScript or from the sources
 * under a TypeScript loader. The thread ends (exit code 0) after the pipeline's stop; an error (a
 * failed write or fsync, a task that threw) ends it with the error, and the pipeline marks every shard
 * down.
 * Thread-safety: this module is the worker thread's main script.
 */
import { workerData } from 'node:worker_threads';
import { type JournalWorkerData, runJournal } from './JournalLoop.js';

await runJournal(workerData as JournalWorkerData);
