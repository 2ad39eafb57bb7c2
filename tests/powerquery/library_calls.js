"use strict";
// Lists the standard library names a Power Query (M) document uses, from the syntax tree of Microsoft's parser
// (@microsoft/powerquery-parser): every identifier that is not bound in the document itself (let variables,
// record fields, function parameters, `_`), and for each call of one the number of arguments.
//
// It also asks @microsoft/powerquery-language-services for standard library signatures. That package defines how a
// host hands a library in (ILibrary), but ships none: the definitions live with its hosts (the VS Code extension,
// the Power Query SDK), not on npm. So "standardLibrary" says whether it gave any; the caller
// (tests/test_m_library_calls.py) then falls back to the evaluator's own signature table.
//
// Usage: node library_calls.js FILE.pq -> JSON on stdout. Exit 1: the document does not parse; 2: bad usage.
const fs = require("fs");

let PQP;
let PQLS;
try {
    PQP = require("@microsoft/powerquery-parser");
    PQLS = require("@microsoft/powerquery-language-services");
} catch (err) {
    console.error(`the packages are not installed (run npm ci in ${__dirname}): ${err.message}`);
    process.exit(2);
}

function languageServicesLibrary() {
    const version = require("@microsoft/powerquery-language-services/package.json").version;
    // Every library the package itself exports (a host would pass its own to the analysis settings).
    const found = [];
    for (const [name, value] of Object.entries(PQLS)) {
        if (value && typeof value === "object" && value.libraryDefinitions instanceof Map) {
            found.push([name, value.libraryDefinitions.size]);
        }
    }
    const sizes = found.filter(([, size]) => size > 0);
    return {
        package: "@microsoft/powerquery-language-services",
        version,
        standardLibrary: sizes.length > 0,
        libraries: found,
        reason: sizes.length > 0 ? "" : "the package defines ILibrary but ships no standard library definitions",
    };
}

function lineOf(text, offset) {
    return text.slice(0, offset).split("\n").length;
}

async function main(file) {
    const text = fs.readFileSync(file, "utf8");
    const task = await PQP.TaskUtils.tryLexParse(PQP.DefaultSettings, text);
    if (!PQP.TaskUtils.isOk(task)) {
        console.error(`${file}: ${task.stage} error: ${task.error.message}`);
        process.exit(1);
    }
    const bound = new Set(["_"]);
    const references = [];
    const calls = [];
    const walk = (node) => {
        if (!node || typeof node !== "object") {
            return;
        }
        if (Array.isArray(node)) {
            node.forEach(walk);
            return;
        }
        switch (node.kind) {
            case "IdentifierPairedExpression": // let variables
            case "GeneralizedIdentifierPairedExpression": // record fields
                bound.add(node.key.literal);
                break;
            case "Parameter":
                bound.add(node.name.literal);
                break;
            case "IdentifierExpression":
                references.push({ name: node.identifier.literal, id: node.id });
                break;
            case "RecursivePrimaryExpression": {
                const first = node.recursiveExpressions.elements[0];
                if (node.head.kind === "IdentifierExpression" && first && first.kind === "InvokeExpression") {
                    calls.push({ name: node.head.identifier.literal, args: first.content.elements.length,
                        line: lineOf(text, first.tokenRange.positionStart.codeUnit) });
                }
                break;
            }
            default:
                break;
        }
        for (const [key, value] of Object.entries(node)) {
            if (key !== "parent" && value && typeof value === "object") {
                walk(value);
            }
        }
    };
    walk(task.ast);
    const library = (name) => !bound.has(name);
    console.log(JSON.stringify({
        languageServices: languageServicesLibrary(),
        names: [...new Set(references.map((r) => r.name).filter(library))].sort(),
        calls: calls.filter((c) => library(c.name)),
    }, null, 1));
}

if (process.argv.length !== 3) {
    console.error("usage: node library_calls.js FILE.pq");
    process.exit(2);
}
main(process.argv[2]).catch((err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(2);
});
