// What the technician and the hub may send the hardware room: device roles, PTZ camera settings and a
// preset request. The routes, the hub's preset relay and the settings store all parse with these.
import { z } from 'zod';
import { cameraRoles, presetNames, type CameraRole, type PresetName } from '../core/contract/hardware.js';

const label = z.string().trim().min(1).max(200);
const roleEnum = z.enum(cameraRoles as [CameraRole, ...CameraRole[]]);
const presetEnum = z.enum(presetNames as [PresetName, ...PresetName[]]);
const host = z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name or IP address');

export const assignmentSchema = z.strictObject({
  cameras: z.strictObject({ teacher: label.optional(), class: label.optional(), document: label.optional() }),
  microphone: label.nullable(),
});

const ptzCameraSchema = z.strictObject({
  protocol: z.enum(['visca-ip', 'onvif']),
  host,
  port: z.number().int().min(1).max(65535),
  username: z.string().max(100).optional(),
  password: z.string().max(200).optional(),
  presets: z.strictObject({
    lectern: z.union([z.number().int().min(0).max(127), z.string().min(1).max(64)]).optional(),
    students: z.union([z.number().int().min(0).max(127), z.string().min(1).max(64)]).optional(),
    board: z.union([z.number().int().min(0).max(127), z.string().min(1).max(64)]).optional(),
  }),
});

export const ptzSettingsSchema = z.strictObject({
  teacher: ptzCameraSchema.nullable().optional(),
  class: ptzCameraSchema.nullable().optional(),
  document: ptzCameraSchema.nullable().optional(),
});

export const presetRequestSchema = z.strictObject({ role: roleEnum, preset: presetEnum });
