import { DURATION_PATTERN, MAX_DELAY_SECONDS, MIN_DELAY_SECONDS } from './durations';
import { STEP_TYPES, type StepType } from './step-catalogue';
import { PROMPT_KEY_PATTERN } from './steps/runtime-steps';

export const FLOW_SCHEMA_ID = 'urn:maxai:schema:flow-definition:1';
export const STEP_ID_PATTERN = '^[a-z][a-z0-9_]{0,62}$';
/** Input, variable and parameter names: JSONata can address them as plain paths. */
export const NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
export const EVENT_TYPE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]+)+$';
export const MAX_STEPS = 100;
export const MAX_EXPRESSION_LENGTH = 4000;
const THIRTY_DAYS = MAX_DELAY_SECONDS;

const expr = { type: 'string', minLength: 1, maxLength: MAX_EXPRESSION_LENGTH };
const stepRef = { type: 'string', pattern: STEP_ID_PATTERN };
const eventType = { type: 'string', maxLength: 255, pattern: EVENT_TYPE_PATTERN };
const seconds = (max: number) => ({ type: 'integer', minimum: 1, maximum: max });
const valueMap = {
  type: 'object',
  maxProperties: 100,
  propertyNames: { pattern: NAME_PATTERN },
};

const common = {
  id: stepRef,
  description: { type: 'string', maxLength: 2000 },
  when: expr,
  maxIterations: { type: 'integer', minimum: 1, maximum: 1000 },
};
const continues = { next: stepRef };
const retry = {
  type: 'object',
  additionalProperties: false,
  required: ['maxAttempts', 'backoff'],
  properties: {
    maxAttempts: { type: 'integer', minimum: 1, maximum: 10 },
    backoff: {
      type: 'object',
      additionalProperties: false,
      required: ['initialMs', 'maxMs', 'multiplier'],
      properties: {
        initialMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
        maxMs: { type: 'integer', minimum: 0, maximum: 86_400_000 },
        multiplier: { type: 'number', minimum: 1, maximum: 10 },
      },
    },
  },
};
const callCommon = { ...common, ...continues, retry, timeoutSeconds: seconds(THIRTY_DAYS) };

/** One variant per step type family; `type` picks it (ajv's discriminator, exclusive anyway). */
function variant(
  types: readonly StepType[],
  properties: Record<string, unknown>,
  required: string[] = [],
) {
  return {
    additionalProperties: false,
    required: ['id', 'type', ...required],
    properties: { type: types.length === 1 ? { const: types[0] } : { enum: types }, ...properties },
  };
}

const special: StepType[] = [
  'llm.generate',
  'n8n.delegate',
  'branch',
  'delay',
  'wait_for_event',
  'set_vars',
  'end',
];

const step = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' } },
  discriminator: { propertyName: 'type' },
  oneOf: [
    variant(
      STEP_TYPES.filter((t) => !special.includes(t)),
      { ...callCommon, inputs: valueMap },
    ),
    variant(
      ['llm.generate'],
      {
        ...callCommon,
        prompt: {
          type: 'object',
          additionalProperties: false,
          required: ['key'],
          properties: {
            key: { type: 'string', pattern: PROMPT_KEY_PATTERN },
            label: { type: 'string', pattern: PROMPT_KEY_PATTERN },
            version: { type: 'integer', minimum: 1 },
          },
        },
        variables: valueMap,
        model: {
          type: 'object',
          additionalProperties: false,
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 200 },
            temperature: { type: 'number', minimum: 0, maximum: 2 },
            maxTokens: { type: 'integer', minimum: 1, maximum: 32_000 },
          },
        },
      },
      ['prompt'],
    ),
    variant(
      ['n8n.delegate'],
      {
        ...callCommon,
        workflow: { type: 'string', minLength: 1, maxLength: 500, pattern: '^[A-Za-z0-9/_.-]+$' },
        mode: { enum: ['sync', 'callback'] },
        inputs: { type: 'object', additionalProperties: false, properties: { payload: valueMap } },
      },
      ['workflow', 'mode'],
    ),
    variant(
      ['branch'],
      {
        ...common,
        conditions: {
          type: 'array',
          minItems: 1,
          maxItems: 20,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['when', 'next'],
            properties: { when: expr, next: stepRef },
          },
        },
        otherwise: stepRef,
      },
      ['conditions'],
    ),
    variant(
      ['delay'],
      {
        ...common,
        ...continues,
        duration: {
          anyOf: [
            { type: 'string', pattern: DURATION_PATTERN },
            { type: 'integer', minimum: MIN_DELAY_SECONDS, maximum: MAX_DELAY_SECONDS },
          ],
        },
      },
      ['duration'],
    ),
    variant(
      ['wait_for_event'],
      {
        ...common,
        ...continues,
        event: eventType,
        correlate: {
          type: 'object',
          additionalProperties: false,
          required: ['eventKey', 'runKey'],
          properties: { eventKey: expr, runKey: expr },
        },
        timeoutSeconds: seconds(THIRTY_DAYS),
        onTimeout: stepRef,
      },
      ['event', 'correlate', 'timeoutSeconds', 'onTimeout'],
    ),
    variant(['set_vars'], { ...common, ...continues, vars: { ...valueMap, minProperties: 1 } }, [
      'vars',
    ]),
    variant(['end'], { ...common, status: { enum: ['completed', 'cancelled'] } }),
  ],
};

/** The published JSON Schema (draft-07) of a flow definition, schemaVersion 1. */
export const FLOW_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: FLOW_SCHEMA_ID,
  title: 'MaxAI flow definition',
  type: 'object',
  additionalProperties: false,
  required: ['schemaVersion', 'name', 'trigger', 'steps'],
  properties: {
    schemaVersion: { const: 1 },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 2000 },
    trigger: {
      type: 'object',
      additionalProperties: false,
      required: ['events'],
      properties: {
        events: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: eventType },
        filter: expr,
      },
    },
    vars: valueMap,
    timeoutSeconds: seconds(90 * 24 * 3600),
    concurrencyKey: expr,
    steps: { type: 'array', minItems: 1, maxItems: MAX_STEPS, items: step },
  },
} as const;
