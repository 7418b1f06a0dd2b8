/** The wired job stack (outbox queue, repository, transport). */
export const JOB_STACK = Symbol('JOB_STACK');
/** The JobQueue port, for modules that enqueue. */
export const JOB_QUEUE = Symbol('JOB_QUEUE');
