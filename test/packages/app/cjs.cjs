// The user's app written in CommonJS.
const { exercise } = require('./exercise.cjs');

exercise({
  native: require('opu-native'),
  core: require('opu-core'),
  sim: require('opu-sim'),
  dfa: require('dfa-nn'),
}).catch((error) => {
  console.error(error);
  process.exit(1);
});
