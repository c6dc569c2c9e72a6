// SCIMMY with its Express routers over an in-memory store, as a SCIM peer for scimlab's
// tests: `node server.js PORT TOKEN` serves SCIM at http://127.0.0.1:PORT/<tenant>/scim with a
// static bearer token; every tenant (any path segment) has its own users and groups, so test
// runs never meet each other. The store is written for the test: two Maps per tenant, userName
// unique case-insensitively (RFC 7643 §4.1.1); filters, paging and PATCH are SCIMMY's.
import crypto from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const [port, token] = process.argv.slice(2);
if (!port || !token) {
    console.error("usage: node server.js PORT TOKEN");
    process.exit(2);
}

function store(type, unique) {
    const tenants = new Map();
    const table = (ctx) => {
        if (!tenants.has(ctx.tenant)) tenants.set(ctx.tenant, new Map());
        return tenants.get(ctx.tenant);
    };
    const now = () => new Date().toISOString();
    return {
        ingress: async (resource, instance, ctx) => {
            const rows = table(ctx);
            const id = resource.id ?? crypto.randomUUID();
            const existing = rows.get(id);
            if (resource.id && !existing) throw new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);
            const key = unique && String(instance[unique] ?? "").toLowerCase();
            for (const [other, row] of rows) {
                if (key && other !== id && String(row[unique] ?? "").toLowerCase() === key)
                    throw new SCIMMY.Types.Error(409, "uniqueness", `${unique} ${instance[unique]} is already taken`);
            }
            const created = existing?.meta?.created ?? now();
            const row = {...JSON.parse(JSON.stringify(instance)), id, meta: {resourceType: type, created, lastModified: now()}};
            rows.set(id, row);
            return row;
        },
        egress: async (resource, ctx) => {
            const rows = table(ctx);
            if (resource.id) {
                const row = rows.get(resource.id);
                if (!row) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
                return row;
            }
            const all = [...rows.values()];
            return resource.filter ? resource.filter.match(all) : all;
        },
        degress: async (resource, ctx) => {
            const rows = table(ctx);
            if (!rows.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        },
    };
}

// The enterprise extension, which Entra's and Okta's users carry (RFC 7643 §4.3).
SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false);
for (const [resource, type, unique] of [[SCIMMY.Resources.User, "User", "userName"], [SCIMMY.Resources.Group, "Group", null]]) {
    const handlers = store(type, unique);
    SCIMMY.Resources.declare(resource).ingress(handlers.ingress).egress(handlers.egress).degress(handlers.degress);
}

const app = express();
app.get("/healthz", (request, response) => response.json({status: "ok"}));
app.use("/:tenant/scim", new SCIMMYRouters({
    context: (request) => ({tenant: request.params.tenant}),
    type: "bearer",
    docUri: "https://example.invalid/scim-auth",
    handler: (request) => {
        const offered = request.header("Authorization") ?? "";
        const wanted = `Bearer ${token}`;
        const same = offered.length === wanted.length
            && crypto.timingSafeEqual(Buffer.from(offered), Buffer.from(wanted));
        if (!same) throw new Error("Authorization failed");
        return "scimlab-test";
    },
}));
app.listen(Number(port), "127.0.0.1", () => console.log(`scimmy peer on http://127.0.0.1:${port}/<tenant>/scim`));
