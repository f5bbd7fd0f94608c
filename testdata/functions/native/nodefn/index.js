const h = require('fast-hash');
exports.handler = async () => h;
