// Exports something that is not a pipeline (a plain object that only looks like one).
export default { id: 'sec-wrong', steps: [] };
