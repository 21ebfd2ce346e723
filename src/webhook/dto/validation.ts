import { applyDecorators } from '@nestjs/common';
import { Expose, Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

// Magic Hour may send null for any field it has no value for, and may add fields at any time, so every
// optional field accepts null or absence; only what the service depends on is checked strictly.

/** An optional string that may be null. */
export const OptionalString = (maxLength = 1000) =>
  applyDecorators(Expose(), IsOptional(), IsString(), MaxLength(maxLength));

/** An optional ISO 8601 timestamp that may be null; stored as a timestamp, so it must parse. */
export const OptionalTimestamp = () => applyDecorators(Expose(), IsOptional(), IsISO8601({ strict: true }));

/** An optional finite number that may be null. */
export const OptionalNumber = () =>
  applyDecorators(Expose(), IsOptional(), IsNumber({ allowNaN: false, allowInfinity: false }));

/** Largest value of a Postgres `integer`, where counts are stored. */
export const MAX_STORED_INT = 2_147_483_647;

/** An optional whole number from 0 to `MAX_STORED_INT` that may be null. */
export const OptionalCount = () => applyDecorators(Expose(), IsOptional(), IsInt(), Min(0), Max(MAX_STORED_INT));

/** An optional boolean that may be null. */
export const OptionalBoolean = () => applyDecorators(Expose(), IsOptional(), IsBoolean());

/** An optional nested object that may be null, validated as `type`. */
export const OptionalNested = (type: () => new () => object) =>
  applyDecorators(Expose(), IsOptional(), IsObject(), ValidateNested(), Type(type));

/** An optional array that may be null, each element validated as `type`. */
export const OptionalNestedArray = (type: () => new () => object) =>
  applyDecorators(Expose(), IsOptional(), IsArray(), ValidateNested({ each: true }), Type(type));
