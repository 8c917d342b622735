// seal merge: fold a LoRA adapter into the base weights and write a merged Hugging Face folder.
import { mergeAdapter, saveModel } from '../train/merge.ts';
import { defineCommand } from '../util/flags.ts';
import { loadModel } from './common.ts';

export const mergeCommand = defineCommand({
  name: 'merge',
  summary: "Merge a PEFT LoRA adapter into the model's weights (in their dtype, as PEFT's merge_and_unload) and save an HF folder.",
  usage: 'seal merge --model <dir> --adapter <dir> --out <dir>',
  flags: [
    { name: 'model', type: 'string', required: true, help: 'Hugging Face model folder' },
    { name: 'adapter', type: 'string', required: true, help: 'PEFT LoRA adapter folder' },
    { name: 'out', type: 'string', required: true, help: 'folder for the merged model' },
  ],
  async run(f) {
    const { model, adapter } = await loadModel(f.model, f.adapter);
    mergeAdapter(model, adapter!);
    await saveModel(model, f.out, f.model);
    adapter!.dispose();
    model.dispose();
    console.error(`merged model written to ${f.out}`);
  },
});
