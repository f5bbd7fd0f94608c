const minimist = require('minimist');
const qs = require('qs');
module.exports.handler = async (e) => ({ args: minimist(e.argv || []), q: qs.parse(e.q || '') });
