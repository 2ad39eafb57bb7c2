"use strict";
// Parses each Power Query (M) file named on the command line with Microsoft's parser
// (@microsoft/powerquery-parser). Prints "ok <file>" for each; on the first lex or parse error prints
// "<file>:<line>:<column>: <message>" to stderr and exits 1. Exit 2: bad usage or the parser is not installed.
const fs = require("fs");

let PQP;
try {
    PQP = require("@microsoft/powerquery-parser");
} catch (err) {
    console.error(`the parser is not installed (run npm ci in ${__dirname}): ${err.message}`);
    process.exit(2);
}

// The position of the error, 1-based, when the parser gives one.
function position(error) {
    const inner = error.innerError || error;
    const found = inner.foundToken && inner.foundToken.token ? inner.foundToken.token.positionStart : undefined;
    const at = found || inner.graphemePosition || (inner.positionStart ? inner.positionStart : undefined);
    if (!at || at.lineNumber === undefined) {
        return "";
    }
    const column = at.columnNumber !== undefined ? at.columnNumber : at.lineCodeUnit;
    return `${at.lineNumber + 1}:${column + 1}:`;
}

async function parse(file) {
    const text = fs.readFileSync(file, "utf8");
    const task = await PQP.TaskUtils.tryLexParse(PQP.DefaultSettings, text);
    if (PQP.TaskUtils.isOk(task)) {
        console.log(`ok ${file}`);
        return true;
    }
    const error = task.error;
    const message = (error.innerError && error.innerError.message) || error.message || String(error);
    console.error(`${file}:${position(error)} ${task.stage} error: ${message}`);
    return false;
}

async function main(files) {
    if (files.length === 0) {
        console.error("usage: node parse.js FILE.pq [FILE.pq ...]");
        process.exit(2);
    }
    for (const file of files) {
        if (!(await parse(file))) {
            process.exit(1);
        }
    }
}

main(process.argv.slice(2)).catch((err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(2);
});
