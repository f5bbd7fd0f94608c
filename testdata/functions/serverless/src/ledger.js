const semver = require('semver');
module.exports.handler = async (e) => ({ ok: semver.valid(e.v) });
