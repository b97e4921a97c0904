import { engineOptionsSchema, idSchema } from "@imapferry/core";
import { z } from "zod";
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from "zod-openapi";
import { createDocument } from "zod-openapi";
import { version } from "../../version.ts";
import { webhookDescriptions } from "./openapi-webhooks.ts";
import type { RestRoute } from "./routes.ts";
import { REST_ROUTES } from "./routes.ts";

const problemSchema = z.object({
  path: z
    .array(z.union([z.string(), z.number()]))
    .meta({ description: 'The field at fault, e.g. ["port"].' }),
  message: z.string(),
});

const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: "UNAUTHORIZED, FORBIDDEN, NOT_FOUND, BAD_REQUEST, CONFLICT, …" }),
      message: z.string().meta({ description: "A sentence saying what is wrong and what to do." }),
      problems: z
        .array(problemSchema)
        .optional()
        .meta({ description: "For BAD_REQUEST: each field at fault." }),
    }),
  })
  .meta({ id: "Error" });

/** The procedures' results are described in words: they come from the services, not from zod schemas. */
const resultSchema = z.looseObject({}).meta({ description: "JSON; dates are ISO 8601 strings." });

const ERRORS = {
  "400": "The input is invalid (see `problems`).",
  "401": "No valid token (missing, revoked or expired).",
  "403": "The token's role or tenant does not allow this.",
  "404": "No such thing (or it belongs to another tenant).",
} as const;

function errorResponses() {
  return Object.fromEntries(
    Object.entries(ERRORS).map(([status, description]) => [
      status,
      { description, content: { "application/json": { schema: errorSchema } } },
    ]),
  );
}

function operationOf(route: RestRoute): ZodOpenApiOperationObject {
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.params || route.query
      ? {
          requestParams: {
            ...(route.params ? { path: route.params } : {}),
            ...(route.query ? { query: route.query } : {}),
          },
        }
      : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { "application/json": { schema: route.body } } } }
      : {}),
    responses: {
      [String(route.status ?? 200)]: {
        description: "The procedure's result.",
        content: { "application/json": { schema: resultSchema } },
      },
      ...errorResponses(),
    },
  };
}

/** The downloads: plain HTTP routes beside the procedures, streamed as the client reads. */
function downloads(): ZodOpenApiPathsObject {
  const byId = z.object({ id: idSchema });
  return {
    "/jobs/{id}/log": {
      get: {
        operationId: "downloadJobLog",
        summary: "The job's whole log as a text file.",
        tags: ["jobs"],
        requestParams: { path: byId },
        responses: {
          "200": { description: "The log.", content: { "text/plain": { schema: z.string() } } },
          ...errorResponses(),
        },
      },
    },
    "/batches/{id}/report.csv": {
      get: {
        operationId: "downloadBatchReport",
        summary: "The batch report as CSV, one row per mailbox.",
        tags: ["batches"],
        requestParams: { path: byId },
        responses: {
          "200": { description: "The report.", content: { "text/csv": { schema: z.string() } } },
          ...errorResponses(),
        },
      },
    },
  };
}

/**
 * Engine options given at a batch's or a row's level are checked by a refinement against
 * engineOptionsSchema (kept as given, so a lower level's unset option does not hide a higher one's),
 * which JSON Schema cannot express: the document describes them by engineOptionsSchema itself.
 */
const { $schema: _draft, ...engineOptionsJson } = z.toJSONSchema(engineOptionsSchema, { io: "input" });

function describeRefinedEngineOptions(ctx: {
  zodSchema: { _zod: { def: { type: string } } };
  jsonSchema: Record<string, unknown>;
  path: (string | number)[];
}): void {
  if (ctx.zodSchema._zod.def.type === "custom" && ctx.path.at(-1) === "options") {
    Object.assign(ctx.jsonSchema, engineOptionsJson);
  }
}

/**
 * The OpenAPI 3.1 document of /api/v1, made from the same zod schemas the procedures validate with.
 * Built once per process: the routes do not change while it runs.
 */
export function createOpenApiDocument(): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = downloads();
  for (const route of REST_ROUTES) {
    paths[route.path] = { ...paths[route.path], [route.method]: operationOf(route) };
  }
  return createDocument(
    {
      openapi: "3.1.0",
      info: {
        title: "imapferry API",
        version,
        description:
          "IMAP mailbox migrations over plain JSON. Authenticate with `Authorization: Bearer <token>` " +
          "(an API token from the panel, Settings → API tokens). Mutations send `Content-Type: application/json`.",
      },
      servers: [{ url: "/api/v1" }],
      security: [{ bearer: [] }],
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      paths,
      webhooks: webhookDescriptions(),
    },
    {
      // Any other z.custom is an object the document cannot describe further ("any JSON").
      allowEmptySchema: { custom: true },
      override: describeRefinedEngineOptions,
    },
  );
}
