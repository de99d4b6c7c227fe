/**
 * Worker entry of a shard: `new Worker(url, { workerData: ShardWorkerData })` runs the shard loop
 * with the fast `MatchingEngine` until the pipeline writes STOP into its command ring, then the thread
 * ends (exit code 0). Started only by `engine/pipeline.ts`, from `dist/` as JavaScript or from the
 * sources under a TypeScript loader (the pipeline passes its execArgv on).
 * Thread-safety: this module is the worker thread's main script.
 */
import { workerData } from 'node:worker_threads';
import { createMatchingEngine, runShard, type ShardWorkerData } from './ShardLoop.js';

runShard(workerData as ShardWorkerData, createMatchingEngine);
