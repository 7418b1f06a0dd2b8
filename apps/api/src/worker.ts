// Tracing first: its hooks must be in place before http, pg and ioredis load.
import './platform/tracing/register';
import { runOrExit } from './platform/app/run';

runOrExit('worker');
