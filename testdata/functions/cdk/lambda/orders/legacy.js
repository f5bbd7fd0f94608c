const minimist = require('minimist');

exports.handler = async (event) => ({ args: minimist(event.argv || []) });
